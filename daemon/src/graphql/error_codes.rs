//! Gives every error a `code`: errors raised by the engine itself (parse,
//! validation, depth and complexity limits) carry none, and they are all the
//! client's doing, so they become `BAD_USER_INPUT`.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Response, ServerError};
use futures_util::StreamExt;

/// Extension factory.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

fn fill(err: &mut ServerError) {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", "BAD_USER_INPUT");
    }
}

fn fill_all(mut resp: Response) -> Response {
    resp.errors.iter_mut().for_each(fill);
    resp
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        fill_all(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(fill_all).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_get_a_code_and_ours_keep_theirs() {
        let mut plain = ServerError::new("Query is nested too deep.", None);
        fill(&mut plain);
        let v = serde_json::to_value(&plain).expect("json");
        assert_eq!(v["extensions"]["code"], "BAD_USER_INPUT");
        let mut ours = ServerError::new("x", None);
        ours.extensions
            .get_or_insert_with(Default::default)
            .set("code", "FORBIDDEN");
        fill(&mut ours);
        let v = serde_json::to_value(&ours).expect("json");
        assert_eq!(v["extensions"]["code"], "FORBIDDEN");
    }
}
