//! Inbound media: downloaded from the Cloud API (`GET /{media-id}`, then the
//! short-lived URL with the bearer token) into a store on the filesystem,
//! within Meta's per-type size limits and with the SHA-256 checked. Jobs are
//! rows of `media_files` written in the same transaction as their message,
//! so a crash never forgets one; a fetcher task works through pending rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use entity::{conversations, media_files, messages, whatsapp_numbers};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::Notify;

use crate::crypto::Keyring;
use crate::whatsapp::client::CloudClient;

/// Attempts before a download is marked failed.
const MAX_ATTEMPTS: u32 = 3;

/// Meta's size limit for a message type, in bytes.
pub fn size_limit(kind: &str) -> u64 {
    const MB: u64 = 1024 * 1024;
    match kind {
        "image" => 5 * MB,
        "audio" | "video" => 16 * MB,
        "sticker" => 500 * 1024,
        _ => 100 * MB,
    }
}

/// The media store and its fetcher.
pub struct MediaStore {
    root: PathBuf,
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    client: CloudClient,
    wake: Notify,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl MediaStore {
    /// Creates the store under `root` and starts its fetcher.
    pub fn start(
        root: PathBuf,
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        client: CloudClient,
    ) -> Arc<Self> {
        let me = Arc::new(Self {
            root,
            db,
            keyring,
            client,
            wake: Notify::new(),
        });
        let fetcher = me.clone();
        tokio::spawn(async move { fetcher.run().await });
        me
    }

    /// New jobs were committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The stored file of a message of `tenant_id`: (path, mime type).
    pub async fn open(&self, tenant_id: i64, message_id: i64) -> Option<(PathBuf, String)> {
        let row = media_files::Entity::find()
            .filter(media_files::Column::TenantId.eq(tenant_id))
            .filter(media_files::Column::MessageId.eq(message_id))
            .filter(media_files::Column::Status.eq("stored"))
            .one(&self.db)
            .await
            .ok()??;
        Some((
            self.root.join(row.path?),
            row.mime_type
                .unwrap_or_else(|| "application/octet-stream".into()),
        ))
    }

    async fn run(self: Arc<Self>) {
        loop {
            let rows = media_files::Entity::find()
                .filter(media_files::Column::Status.eq("pending"))
                .order_by_asc(media_files::Column::Id)
                .limit(16)
                .all(&self.db)
                .await;
            match rows {
                Ok(rows) if !rows.is_empty() => {
                    for row in rows {
                        self.fetch(row).await;
                    }
                }
                Ok(_) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(30), self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "media queue poll failed");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    async fn fetch(&self, row: media_files::Model) {
        let mut last = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            match self.download(&row).await {
                Ok((path, mime, sha, size)) => {
                    self.finish(
                        row.id,
                        "stored",
                        Some(path),
                        Some(mime),
                        Some(sha),
                        Some(size),
                        None,
                    )
                    .await;
                    return;
                }
                Err((e, retry)) => {
                    last = e;
                    if !retry {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                }
            }
        }
        tracing::warn!(media_file = row.id, error = %last, "media download failed");
        self.finish(row.id, "failed", None, None, None, None, Some(last))
            .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        id: i64,
        status: &str,
        path: Option<String>,
        mime: Option<String>,
        sha: Option<String>,
        size: Option<i64>,
        error: Option<String>,
    ) {
        let res = media_files::Entity::update_many()
            .col_expr(media_files::Column::Status, Expr::value(status))
            .col_expr(media_files::Column::Path, Expr::value(path))
            .col_expr(media_files::Column::MimeType, Expr::value(mime))
            .col_expr(media_files::Column::Sha256, Expr::value(sha))
            .col_expr(media_files::Column::SizeBytes, Expr::value(size))
            .col_expr(media_files::Column::Error, Expr::value(error))
            .col_expr(
                media_files::Column::UpdatedAt,
                Expr::value(crate::store::now()),
            )
            .filter(media_files::Column::Id.eq(id))
            .exec(&self.db)
            .await;
        if let Err(e) = res {
            tracing::error!(media_file = id, error = %e, "cannot record a media download");
        }
    }

    /// Downloads one file; `Err((reason, retryable))`.
    async fn download(
        &self,
        row: &media_files::Model,
    ) -> Result<(String, String, String, i64), (String, bool)> {
        let db_err = |e: sea_orm::DbErr| (e.to_string(), true);
        let msg = messages::Entity::find_by_id(row.message_id)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(("message gone".to_string(), false))?;
        let number_id: i64 = conversations::Entity::find_by_id(msg.conversation_id)
            .select_only()
            .column(conversations::Column::WhatsappNumberId)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(("conversation gone".to_string(), false))?;
        let number = whatsapp_numbers::Entity::find_by_id(number_id)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(("number gone".to_string(), false))?;
        let token = self
            .keyring
            .open(&number.access_token_enc)
            .map_err(|e| (e.to_string(), false))?;
        let info = self
            .client
            .media_info(&token, &row.media_id)
            .await
            .map_err(|e| (e.to_string(), e.retryable()))?;
        let bytes = self
            .client
            .download_media(&token, &info, size_limit(&msg.kind))
            .await
            .map_err(|e| (e.to_string(), e.retryable()))?;
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let rel = Path::new(&row.tenant_id.to_string())
            .join(&sha[..2])
            .join(format!("{sha}{}", extension(&info.mime_type)));
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        write_atomically(&self.root.join(&rel), &bytes)
            .await
            .map_err(|e| (format!("cannot write media: {e}"), true))?;
        Ok((
            rel.to_string_lossy().into_owned(),
            info.mime_type,
            sha,
            size,
        ))
    }
}

fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/webp" => ".webp",
        "audio/ogg" => ".ogg",
        "audio/mpeg" => ".mp3",
        "video/mp4" => ".mp4",
        "application/pdf" => ".pdf",
        _ => "",
    }
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension(format!("tmp{}", rand::random::<u32>()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_meta() {
        assert_eq!(size_limit("image"), 5 * 1024 * 1024);
        assert_eq!(size_limit("video"), 16 * 1024 * 1024);
        assert_eq!(size_limit("document"), 100 * 1024 * 1024);
        assert_eq!(size_limit("sticker"), 500 * 1024);
        assert_eq!(extension("image/jpeg"), ".jpg");
        assert_eq!(extension("audio/ogg; codecs=opus"), ".ogg");
        assert_eq!(extension("x/unknown"), "");
    }
}
