//! `switchboard bench inbound`: posts unique, signed, realistic message
//! notifications to a webhook URL at a fixed rate or as fast as acknowledged,
//! reports acknowledged msg/s and ack latency, then checks that every
//! acknowledged message is in the database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use super::{Rate, summarize};
use crate::whatsapp::signature;

/// Options of one run.
#[derive(Debug, Clone)]
pub struct InboundBench {
    pub url: String,
    pub app_secret: String,
    pub phone_number_id: String,
    pub rate: Rate,
    pub duration: Duration,
    pub connections: usize,
    /// Distinct customers the messages come from.
    pub contacts: usize,
}

/// What a run measured.
#[derive(Debug)]
pub struct InboundReport {
    pub sent: u64,
    pub acked: Vec<String>,
    pub errors: std::collections::BTreeMap<String, u64>,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
}

impl InboundReport {
    pub fn acked_per_second(&self) -> f64 {
        self.acked.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

const WORDS: &[&str] = &[
    "hello", "order", "delivery", "refund", "where", "is", "my", "package", "thanks", "please",
    "help", "account", "invoice", "tomorrow", "store", "open", "price", "size", "color", "return",
];

/// A realistic text-message notification (about 1 KB) from contact `n`.
/// Written straight into one string (not through a `serde_json::Value`):
/// the load generator shares the machine with the daemon it measures, so
/// every microsecond it spends per request is taken from the daemon.
pub fn notification(phone_number_id: &str, contact: usize, wamid: &str, seq: u64) -> String {
    use std::fmt::Write;
    let wa_id = format!("49151{:07}", contact % 10_000_000);
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut s = String::with_capacity(1024);
    let _ = write!(
        s,
        "{{\"object\":\"whatsapp_business_account\",\"entry\":[{{\"id\":\"102290129340398\",\
         \"changes\":[{{\"field\":\"messages\",\"value\":{{\"messaging_product\":\"whatsapp\",\
         \"metadata\":{{\"display_phone_number\":\"15550783881\",\"phone_number_id\":{}}},\
         \"contacts\":[{{\"profile\":{{\"name\":\"Customer {contact}\"}},\"wa_id\":\"{wa_id}\"}}],\
         \"messages\":[{{\"from\":\"{wa_id}\",\"id\":{},\"timestamp\":\"{}\",\"type\":\"text\",\
         \"text\":{{\"body\":\"",
        quoted(phone_number_id),
        quoted(wamid),
        chrono::Utc::now().timestamp(),
    );
    for i in 0..64 {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[(seq as usize + i * 7) % WORDS.len()]);
    }
    s.push_str("\"}}]}}]}]}");
    s
}

/// Runs the load and returns what it measured.
pub async fn run(opts: &InboundBench) -> Result<InboundReport, String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.connections)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let run_id = hex::encode(rand::random::<[u8; 4]>());
    let start = Instant::now();
    let deadline = start + opts.duration;
    let per_conn_interval = match opts.rate {
        Rate::Max => None,
        Rate::PerSecond(r) => Some(Duration::from_secs_f64(opts.connections as f64 / r)),
    };
    let opts = Arc::new(opts.clone());
    let mut tasks = Vec::new();
    for conn in 0..opts.connections {
        let client = client.clone();
        let opts = opts.clone();
        let run_id = run_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .unwrap_or_else(|_| unreachable!("static histogram bounds"));
            let mut acked = Vec::new();
            let mut errors: std::collections::BTreeMap<String, u64> = Default::default();
            let mut sent = 0u64;
            let mut seq = 0u64;
            let mut next = Instant::now();
            while Instant::now() < deadline {
                if let Some(iv) = per_conn_interval {
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    }
                    next += iv;
                }
                seq += 1;
                let wamid = format!("wamid.BENCH{run_id}{conn:04}{seq:010}");
                let contact = (seq as usize * opts.connections + conn) % opts.contacts.max(1);
                let body = notification(&opts.phone_number_id, contact, &wamid, seq);
                let sig = signature::sign(opts.app_secret.as_bytes(), body.as_bytes());
                let t0 = Instant::now();
                let res = client
                    .post(&opts.url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body)
                    .send()
                    .await;
                sent += 1;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let _ = hist.record(t0.elapsed().as_micros().max(1) as u64);
                        acked.push(wamid);
                    }
                    Ok(r) => {
                        *errors
                            .entry(format!("HTTP {}", r.status().as_u16()))
                            .or_default() += 1
                    }
                    Err(e) => {
                        let kind = if e.is_timeout() {
                            "timeout"
                        } else {
                            "connection"
                        };
                        *errors.entry(kind.into()).or_default() += 1;
                    }
                }
            }
            (sent, acked, errors, hist)
        }));
    }
    let mut report = InboundReport {
        sent: 0,
        acked: Vec::new(),
        errors: Default::default(),
        elapsed: Duration::ZERO,
        latency: Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())?,
    };
    for t in tasks {
        let (sent, acked, errors, hist) = t.await.map_err(|e| e.to_string())?;
        report.sent += sent;
        report.acked.extend(acked);
        for (k, v) in errors {
            *report.errors.entry(k).or_default() += v;
        }
        report.latency.add(&hist).map_err(|e| e.to_string())?;
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// How many of `wamids` are stored for the tenant owning `phone_number_id`.
pub async fn count_stored(
    db: &DatabaseConnection,
    phone_number_id: &str,
    wamids: &[String],
) -> Result<u64, sea_orm::DbErr> {
    let tenant = entity::whatsapp_numbers::Entity::find()
        .filter(entity::whatsapp_numbers::Column::PhoneNumberId.eq(phone_number_id))
        .one(db)
        .await?
        .map(|n| n.tenant_id)
        .ok_or_else(|| {
            sea_orm::DbErr::Custom(format!("no number {phone_number_id} in this database"))
        })?;
    let mut n = 0;
    for chunk in wamids.chunks(500) {
        n += entity::messages::Entity::find()
            .filter(entity::messages::Column::TenantId.eq(tenant))
            .filter(entity::messages::Column::WaMessageId.is_in(chunk.iter().cloned()))
            .count(db)
            .await?;
    }
    Ok(n)
}

/// The report as printed.
pub fn render(opts: &InboundBench, r: &InboundReport) -> String {
    let rate = match opts.rate {
        Rate::Max => "max".to_string(),
        Rate::PerSecond(x) => format!("{x}"),
    };
    let mut s = format!(
        "bench inbound: rate {rate}/s, {} connections, {:.1} s, {} contacts\n\
         sent {}  acknowledged {}  ({:.0} acknowledged msg/s)\n\
         ack latency: {}\n",
        opts.connections,
        r.elapsed.as_secs_f64(),
        opts.contacts,
        r.sent,
        r.acked.len(),
        r.acked_per_second(),
        summarize(&r.latency),
    );
    if !r.errors.is_empty() {
        s.push_str(&format!("errors: {:?}\n", r.errors));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_realistic_and_unique() {
        let a = notification("106540352242922", 7, "wamid.A", 1);
        let b = notification("106540352242922", 7, "wamid.B", 2);
        assert_ne!(a, b);
        assert!((600..2000).contains(&a.len()), "{}", a.len());
        let v: serde_json::Value = serde_json::from_str(&a).expect("json");
        assert_eq!(
            v["entry"][0]["changes"][0]["value"]["messages"][0]["id"],
            "wamid.A"
        );
        // what the daemon parses: one text message from contact 7, whose
        // name comes along, to the given number
        let note = crate::whatsapp::model::parse(a.as_bytes()).expect("a valid notification");
        let value = &v["entry"][0]["changes"][0]["value"];
        assert_eq!(value["metadata"]["phone_number_id"], "106540352242922");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Customer 7");
        assert_eq!(value["contacts"][0]["wa_id"], "491510000007");
        assert_eq!(value["messages"][0]["from"], "491510000007");
        assert_eq!(value["messages"][0]["type"], "text");
        assert_eq!(
            value["messages"][0]["text"]["body"]
                .as_str()
                .map(|b| b.split(' ').count()),
            Some(64)
        );
        assert_eq!(note.entry.len(), 1);
        // user-given parts are escaped
        let odd = notification("1\"2", 7, "wamid.\"x", 1);
        let v: serde_json::Value = serde_json::from_str(&odd).expect("json");
        assert_eq!(
            v["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"],
            "1\"2"
        );
    }
}
