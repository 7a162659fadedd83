//! Walking list operations to their end: by `offset` / `count` for pages, by
//! `next_cursor` for the audit log. One implementation serves the typed Rust
//! streams and every binding's iterators.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::pin::Pin;

use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::{Caller, RawResponse};
use crate::error::{Error, ErrorKind, Result};
use crate::spec::{Operation, Paginate};

/// The page size `iter` uses when the caller gives no `limit`: the largest the service allows.
const ITER_LIMIT: i64 = 200;

/// A stream of every item of a list operation.
pub type ItemStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

/// An offset page as the walk reads it: `count` checked as the typed `Page`
/// checks it; any other field (`next_cursor` too) is unknown, as it is there.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct OffsetPage<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    count: Option<u64>,
}

/// A cursor page (the audit log's) as the walk reads it: `next_cursor`
/// checked as `EventPage` checks it; `count` is not part of it.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct CursorPage<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// Fetches the pages of one list call, one at a time.
pub struct Paginator {
    caller: Caller,
    op: &'static Operation,
    args: Map<String, Value>,
    done: bool,
    /// Cursors already followed: a server that hands one out again would loop forever.
    cursors: HashSet<String>,
    /// For offset pages: a fingerprint of the last page's body, so a server
    /// that ignores `offset` (the same page again) is caught.
    last_page: Option<u64>,
    /// An error found with a page whose items were still delivered; the next call returns it.
    pending: Option<Error>,
}

impl Paginator {
    /// A paginator over `op` starting from `args` (for offset pages, a missing
    /// `limit` becomes 200 and a missing `offset` 0).
    pub fn new(caller: Caller, op: &'static Operation, mut args: Map<String, Value>) -> Result<Paginator> {
        match op.paginate {
            Paginate::None => {
                return Err(Error::validation("operation", format!("{} does not return pages", op.qualified_name())).with_rule("paginated"))
            }
            Paginate::Offset => {
                if args.get("limit").is_none_or(Value::is_null) {
                    args.insert("limit".into(), Value::from(ITER_LIMIT));
                }
            }
            Paginate::Cursor => {}
        }
        Ok(Paginator { caller, op, args, done: false, cursors: HashSet::new(), last_page: None, pending: None })
    }

    /// The next page's items, or `None` once the list is exhausted.
    pub async fn next_page<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let raw = self.caller.call(self.op, self.args.clone()).await?;
        let data = match self.op.paginate {
            Paginate::Offset => {
                let page: OffsetPage<T> = raw.decode(self.op.result)?;
                let n = page.data.len() as i64;
                if n > 0 {
                    // A server that ignores offset sends the same bytes again: without a
                    // count it would never end (the whole page is compared), with a huge
                    // one nearly so (its length and ends, nothing beside decoding it).
                    let this = fingerprint(&raw.data, page.count.is_none());
                    if self.last_page.replace(this) == Some(this) {
                        self.done = true;
                        return Err(loop_error(&raw, "the server sent the same page again for a higher offset (it ignores offset)"));
                    }
                }
                let offset = self.args.get("offset").and_then(Value::as_i64).unwrap_or(0).saturating_add(n);
                self.args.insert("offset".into(), Value::from(offset));
                self.done = n == 0 || page.count.is_some_and(|c| u64::try_from(offset).is_ok_and(|o| o >= c));
                page.data
            }
            Paginate::Cursor => {
                let page: CursorPage<T> = raw.decode(self.op.result)?;
                match page.next_cursor.filter(|c| !c.is_empty()) {
                    Some(next) if !page.data.is_empty() => {
                        if !self.cursors.insert(next.clone()) {
                            // This page's items are new; the loop shows on the next call.
                            self.done = true;
                            self.pending = Some(loop_error(&raw, "the server repeated a next_cursor it had already sent"));
                            return Ok(Some(page.data));
                        }
                        self.args.remove("after");
                        self.args.insert("cursor".into(), Value::String(next));
                    }
                    _ => self.done = true,
                }
                page.data
            }
            Paginate::None => {
                self.done = true;
                raw.decode::<OffsetPage<T>>(self.op.result)?.data
            }
        };
        if data.is_empty() {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(data))
    }
}

/// A hash of a page's body: all of it when `whole`, else its length and its
/// first and last 512 bytes (two pages of a real list differ there: the first
/// item's id at least).
fn fingerprint(body: &[u8], whole: bool) -> u64 {
    let mut h = DefaultHasher::new();
    if whole {
        body.hash(&mut h);
    } else {
        body.len().hash(&mut h);
        body[..body.len().min(512)].hash(&mut h);
        body[body.len().saturating_sub(512)..].hash(&mut h);
    }
    h.finish()
}

/// The error that ends an iteration the server would keep going forever.
fn loop_error(raw: &RawResponse, why: &str) -> Error {
    let mut e = Error::new(ErrorKind::Decode, format!("stopped paging: {why}; iterating on would never end"));
    e.inner.status = Some(raw.status);
    e.inner.request_id = raw.request_id.clone();
    e
}

/// Every item of `op` as a stream, fetching the next page when the previous one is used up.
pub fn item_stream<T: DeserializeOwned + Send + 'static>(
    caller: Caller,
    op: &'static Operation,
    args: Map<String, Value>,
) -> ItemStream<T> {
    let state = Paginator::new(caller, op, args).map(|p| (p, VecDeque::<T>::new()));
    Box::pin(futures_util::stream::unfold(Some(state), |state| async move {
        let (mut pages, mut buf) = match state? {
            Ok(s) => s,
            Err(e) => return Some((Err(e), None)),
        };
        loop {
            if let Some(item) = buf.pop_front() {
                return Some((Ok(item), Some(Ok((pages, buf)))));
            }
            match pages.next_page::<T>().await {
                Ok(Some(items)) => buf.extend(items),
                Ok(None) => return None,
                Err(e) => return Some((Err(e), None)),
            }
        }
    }))
}
