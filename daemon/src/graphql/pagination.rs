//! Relay-style cursor connections over keyset pages.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{Context, OutputType};

use crate::error::{ApiError, ApiResult};
use crate::store::Page;

/// Largest `first` a connection accepts (from `graphql.max_page_size`).
pub struct PageLimit(pub usize);

/// Default page size when `first` is omitted.
const DEFAULT_FIRST: usize = 20;

/// Cursor: an opaque (base64) row id.
pub type IdCursor = OpaqueCursor<i64>;

/// Validated `first` / `after` arguments: (after id, limit).
pub fn args(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<(Option<i64>, u64)> {
    let max = ctx.data_opt::<PageLimit>().map_or(100, |l| l.0);
    let first = match first {
        None => DEFAULT_FIRST.min(max),
        Some(n) if n < 0 => return Err(ApiError::BadInput("`first` must not be negative".into())),
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > max {
                return Err(ApiError::BadInput(format!("`first` must be at most {max}")));
            }
            n
        }
    };
    let after = match after {
        None => None,
        Some(c) => Some(
            IdCursor::decode_cursor(&c)
                .map_err(|_| ApiError::BadInput("`after` is not a valid cursor".into()))?
                .0,
        ),
    };
    Ok((after, u64::try_from(first).unwrap_or(u64::MAX)))
}

/// Turns a page into a connection, with `id` giving each row's cursor.
pub fn connection<R, N: OutputType>(
    page: Page<R>,
    after: Option<i64>,
    id: impl Fn(&R) -> i64,
    node: impl Fn(R) -> N,
) -> Connection<IdCursor, N> {
    let mut conn = Connection::new(after.is_some(), page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|r| Edge::new(OpaqueCursor(id(&r)), node(r))),
    );
    conn
}
