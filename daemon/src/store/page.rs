//! Keyset pagination by id: stable under inserts, O(page) on any table size.

/// One page of rows and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        Self {
            items: rows,
            has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overfetch_detects_next_page() {
        let p = Page::from_overfetch(vec![1, 2, 3], 2);
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.has_next);
        let p = Page::from_overfetch(vec![1, 2], 2);
        assert!(!p.has_next);
    }
}
