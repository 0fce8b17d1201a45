//! Requests paused until a key fetch (by this worker or another) ends: bounded, and each
//! released once, when its provider's fetch ends, when the shared record shows a fetch
//! ended since it began to wait, or at its deadline.

use crate::gate::Route;
use crate::wire::Header;

/// Most requests one worker keeps paused for keys; beyond it they are decided at once,
/// so a flood of unknown `kid`s during a slow fetch cannot pile up memory.
pub const MAX_WAITERS: usize = 1024;

/// A request paused until a refetch (here or in another worker) completes.
pub struct Waiter {
    pub ctx: u32,
    pub provider: usize,
    /// The source's shared-data key and its count of ended fetches when the request began
    /// to wait: once the count moves, the fetch it waited for (here or in another worker)
    /// is over, even if it brought no new keys.
    pub source: String,
    pub joined: u64,
    pub deadline: u64,
    pub headers: Vec<(String, String)>,
    /// What the route says, when the configuration selects requirements by route.
    pub route: Route,
}

impl Waiter {
    pub fn new(
        ctx: u32,
        provider: usize,
        (source, joined): (String, u64),
        deadline: u64,
        headers: &[impl Header],
        route: &Route,
    ) -> Waiter {
        Waiter {
            ctx,
            provider,
            source,
            joined,
            deadline,
            headers: headers
                .iter()
                .map(|h| (h.name().to_owned(), h.value().to_owned()))
                .collect(),
            route: route.clone(),
        }
    }
}

#[derive(Default)]
pub struct Waiters {
    list: Vec<Waiter>,
}

impl Waiters {
    /// Pauses a request; false (and dropped) when the queue is full.
    pub fn push(&mut self, w: Waiter) -> bool {
        if self.list.len() >= MAX_WAITERS {
            return false;
        }
        self.list.push(w);
        true
    }

    pub fn is_full(&self) -> bool {
        self.list.len() >= MAX_WAITERS
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn contains(&self, ctx: u32) -> bool {
        self.list.iter().any(|w| w.ctx == ctx)
    }

    /// The client left.
    pub fn remove(&mut self, ctx: u32) {
        self.list.retain(|w| w.ctx != ctx);
    }

    /// Takes out the requests to decide again: those waiting on `provider` (its fetch
    /// ended here), those for which `fetch_ended` says so, and those past their deadline.
    pub fn take_ready(
        &mut self,
        provider: Option<usize>,
        now: u64,
        fetch_ended: impl Fn(&Waiter) -> bool,
    ) -> Vec<Waiter> {
        let (ready, keep) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|w| Some(w.provider) == provider || w.deadline <= now || fetch_ended(w));
        self.list = keep;
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(ctx: u32, provider: usize, joined: u64, deadline: u64) -> Waiter {
        let headers: [(String, String); 0] = [];
        Waiter::new(
            ctx,
            provider,
            ("k".into(), joined),
            deadline,
            &headers,
            &Route::default(),
        )
    }

    #[test]
    fn released_by_provider_deadline_or_an_ended_fetch_and_bounded() {
        let mut q = Waiters::default();
        assert!(q.push(w(1, 0, 0, 100)));
        assert!(q.push(w(2, 1, 0, 100)));
        assert!(q.push(w(3, 1, 5, 50)));
        assert!(q.contains(2));
        let ids = |v: Vec<Waiter>| v.iter().map(|w| w.ctx).collect::<Vec<_>>();
        assert_eq!(ids(q.take_ready(Some(0), 10, |_| false)), [1]);
        assert_eq!(ids(q.take_ready(None, 50, |_| false)), [3]);
        assert_eq!(ids(q.take_ready(None, 10, |w| w.joined != 1)), [2]);
        assert!(q.is_empty());
        for i in 0..MAX_WAITERS {
            assert!(q.push(w(u32::try_from(i).unwrap(), 0, 0, 1)));
        }
        assert!(q.is_full());
        assert!(!q.push(w(9999, 0, 0, 1)));
        q.remove(0);
        assert_eq!(q.len(), MAX_WAITERS - 1);
    }
}
