//! Walking list operations to their end: by `offset` / `count` for pages, by
//! `next_cursor` for the audit log. One implementation serves the typed Rust
//! streams and every binding's iterators.

use std::collections::VecDeque;
use std::pin::Pin;

use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::Caller;
use crate::error::{Error, Result};
use crate::spec::{Operation, Paginate};

/// The page size `iter` uses when the caller gives no `limit`: the largest the service allows.
const ITER_LIMIT: i64 = 200;

/// A stream of every item of a list operation.
pub type ItemStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct AnyPage<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// Fetches the pages of one list call, one at a time.
pub struct Paginator {
    caller: Caller,
    op: &'static Operation,
    args: Map<String, Value>,
    done: bool,
}

impl Paginator {
    /// A paginator over `op` starting from `args` (for offset pages, a missing
    /// `limit` becomes 200 and a missing `offset` 0).
    pub fn new(caller: Caller, op: &'static Operation, mut args: Map<String, Value>) -> Result<Paginator> {
        match op.paginate {
            Paginate::None => return Err(Error::validation("operation", format!("{} does not return pages", op.qualified_name()))),
            Paginate::Offset => {
                if args.get("limit").is_none_or(Value::is_null) {
                    args.insert("limit".into(), Value::from(ITER_LIMIT));
                }
            }
            Paginate::Cursor => {}
        }
        Ok(Paginator { caller, op, args, done: false })
    }

    /// The next page's items, or `None` once the list is exhausted.
    pub async fn next_page<T: DeserializeOwned>(&mut self) -> Result<Option<Vec<T>>> {
        if self.done {
            return Ok(None);
        }
        let raw = self.caller.call(self.op, self.args.clone()).await?;
        let page: AnyPage<T> = raw.decode(self.op.result)?;
        let n = page.data.len() as i64;
        match self.op.paginate {
            Paginate::Offset => {
                let offset = self.args.get("offset").and_then(Value::as_i64).unwrap_or(0) + n;
                self.args.insert("offset".into(), Value::from(offset));
                self.done = n == 0 || page.count.is_some_and(|c| offset as u64 >= c);
            }
            Paginate::Cursor => match page.next_cursor.filter(|c| !c.is_empty()) {
                Some(next) if n > 0 => {
                    self.args.remove("after");
                    self.args.insert("cursor".into(), Value::String(next));
                }
                _ => self.done = true,
            },
            Paginate::None => self.done = true,
        }
        if n == 0 {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(page.data))
    }
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
