//! Paginated AWS listings, one way for every caller: a page is asked with the token the previous
//! one returned (none for the first), an empty token ends the listing like no token, and a token
//! that comes back is an error ([`AwsCallError::repeated_token`], exit 3) instead of an endless
//! loop. A caller's `fetch` builds one request for a token and returns the page's items and its
//! next token; it names the call the same way in its own errors.

use std::collections::HashSet;
use std::future::Future;

use crate::AwsCallError;

/// Every item of every page.
pub async fn all_pages<T, F, Fut>(action: &'static str, fetch: F) -> Result<Vec<T>, AwsCallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsCallError>>,
{
    let mut items = Vec::new();
    walk(action, fetch, |page| {
        items.extend(page);
        false
    })
    .await?;
    Ok(items)
}

/// The first item of the first page that has one, asking for no page after it; None when the
/// listing ends without one. For a search whose first hit is all that matters, however long the
/// listing.
pub async fn first_item<T, F, Fut>(
    action: &'static str,
    fetch: F,
) -> Result<Option<T>, AwsCallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsCallError>>,
{
    let mut first = None;
    walk(action, fetch, |page| {
        first = page.into_iter().next();
        first.is_some()
    })
    .await?;
    Ok(first)
}

/// Hands each page to `take` until it returns true or a page has no next token; the one loop
/// both listings share, with the repeated-token guard.
async fn walk<T, F, Fut>(
    action: &'static str,
    mut fetch: F,
    mut take: impl FnMut(Vec<T>) -> bool,
) -> Result<(), AwsCallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsCallError>>,
{
    let mut seen = HashSet::new();
    let mut token = None;
    loop {
        let (page, next) = fetch(token).await?;
        if take(page) {
            return Ok(());
        }
        match next.filter(|t| !t.is_empty()) {
            Some(next) if !seen.insert(next.clone()) => {
                return Err(AwsCallError::repeated_token(action))
            }
            Some(next) => token = Some(next),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    type Page = (Vec<u32>, Option<String>);

    /// A listing that answers `pages` in turn and records the token each request carried.
    struct Listing {
        pages: Vec<Page>,
        asked: RefCell<Vec<Option<String>>>,
    }

    impl Listing {
        fn new(pages: &[(&[u32], Option<&str>)]) -> Self {
            Self {
                pages: pages
                    .iter()
                    .map(|(items, next)| (items.to_vec(), next.map(str::to_owned)))
                    .collect(),
                asked: RefCell::new(Vec::new()),
            }
        }

        fn fetch(
            &self,
        ) -> impl FnMut(Option<String>) -> std::future::Ready<Result<Page, AwsCallError>> + '_
        {
            move |token| {
                let index = self.asked.borrow().len();
                self.asked.borrow_mut().push(token);
                std::future::ready(Ok(self.pages[index].clone()))
            }
        }
    }

    #[tokio::test]
    async fn every_page_is_followed_until_a_page_has_no_token_or_an_empty_one() {
        let listing = Listing::new(&[(&[1, 2], Some("a")), (&[], Some("b")), (&[3], Some(""))]);
        let items = all_pages("test:List", listing.fetch()).await.unwrap();
        assert_eq!(items, [1, 2, 3]);
        assert_eq!(
            *listing.asked.borrow(),
            [None, Some("a".to_owned()), Some("b".to_owned())]
        );
    }

    #[tokio::test]
    async fn a_search_stops_at_the_first_page_with_an_item() {
        let listing = Listing::new(&[(&[], Some("a")), (&[7, 8], Some("b")), (&[9], None)]);
        let first = first_item("test:List", listing.fetch()).await.unwrap();
        assert_eq!(first, Some(7));
        assert_eq!(listing.asked.borrow().len(), 2, "no page after the hit");
        let empty = Listing::new(&[(&[], Some("a")), (&[], None)]);
        assert_eq!(first_item("test:List", empty.fetch()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_token_that_comes_back_stops_both_with_the_call_named() {
        for search in [false, true] {
            let listing = Listing::new(&[(&[], Some("a")), (&[], Some("b")), (&[], Some("a"))]);
            let err = if search {
                first_item("test:List", listing.fetch()).await.unwrap_err()
            } else {
                all_pages("test:List", listing.fetch()).await.unwrap_err()
            };
            assert_eq!(err.code(), Some("RepeatedNextToken"));
            assert_eq!(err.action, "test:List");
            assert_eq!(listing.asked.borrow().len(), 3, "the repeat is not asked");
        }
    }
}
