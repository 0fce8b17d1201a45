//! A mock [`Host`] for the native tests: several workers share one [`Net`] (the shared
//! data, the clock and the outgoing calls), as Envoy's worker VMs share one process.

use crate::config::Url;
use crate::ports::{Host, SetShared};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// A GET a worker dispatched.
#[derive(Clone, Debug)]
pub struct Call {
    pub token: u32,
    pub worker: usize,
    pub path: String,
}

/// What the workers of one Envoy share.
#[derive(Default)]
pub struct Net {
    pub shared: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    cas: Cell<u32>,
    pub now: Cell<u64>,
    pub calls: RefCell<Vec<Call>>,
    /// When set, dispatching a call fails with this status.
    pub refuse_calls: Cell<Option<u32>>,
}

impl Net {
    pub fn new(now: u64) -> Rc<Net> {
        let net = Net::default();
        net.now.set(now);
        Rc::new(net)
    }

    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    pub fn record(&self, key_prefix: &str) -> crate::keys::Record {
        self.shared
            .borrow()
            .iter()
            .find(|(k, _)| k.starts_with(key_prefix))
            .and_then(|(_, (v, _))| crate::keys::Record::decode(v))
            .unwrap_or_default()
    }
}

/// One worker's host: its stream effects are recorded per context.
pub struct MockHost {
    pub net: Rc<Net>,
    pub id: usize,
    effective: Cell<u32>,
    pub resumed: RefCell<Vec<u32>>,
    /// (context, HTTP status) of each local reply.
    pub replies: RefCell<Vec<(u32, u32)>>,
    pub headers_set: RefCell<Vec<(u32, String, Option<String>)>>,
    pub counters: RefCell<HashMap<String, i64>>,
    names: RefCell<Vec<String>>,
    pub tick_ms: Cell<u64>,
    pub foreign_calls: Cell<u64>,
}

impl MockHost {
    pub fn new(net: &Rc<Net>, id: usize) -> MockHost {
        MockHost {
            net: net.clone(),
            id,
            effective: Cell::new(0),
            resumed: RefCell::new(Vec::new()),
            replies: RefCell::new(Vec::new()),
            headers_set: RefCell::new(Vec::new()),
            counters: RefCell::new(HashMap::new()),
            names: RefCell::new(Vec::new()),
            tick_ms: Cell::new(0),
            foreign_calls: Cell::new(0),
        }
    }

    /// The host calls a stream's callback: it is the effective context.
    pub fn enter(&self, ctx: u32) {
        self.effective.set(ctx);
    }

    pub fn counter(&self, name: &str) -> i64 {
        self.counters.borrow().get(name).copied().unwrap_or(0)
    }

    pub fn reply_to(&self, ctx: u32) -> Option<u32> {
        self.replies
            .borrow()
            .iter()
            .find(|(c, _)| *c == ctx)
            .map(|(_, s)| *s)
    }
}

impl Host for MockHost {
    fn now_ms(&self) -> u64 {
        self.net.now.get()
    }

    fn get_shared(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), u32> {
        Ok(match self.net.shared.borrow().get(key) {
            Some((v, cas)) => (Some(v.clone()), Some(*cas)),
            None => (None, None),
        })
    }

    fn set_shared(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SetShared> {
        let mut shared = self.net.shared.borrow_mut();
        if let Some((_, current)) = shared.get(key) {
            if cas != 0 && cas != *current {
                return Err(SetShared::CasMismatch);
            }
        }
        let next = self.net.cas.get() + 1;
        self.net.cas.set(next);
        shared.insert(key.to_owned(), (value.to_vec(), next));
        Ok(())
    }

    fn dispatch_get(&self, _cluster: &str, url: &Url, _timeout_ms: u64) -> Result<u32, u32> {
        if let Some(status) = self.net.refuse_calls.get() {
            return Err(status);
        }
        let mut calls = self.net.calls.borrow_mut();
        let token = u32::try_from(calls.len()).unwrap_or(u32::MAX) + 100;
        calls.push(Call {
            token,
            worker: self.id,
            path: url.path.clone(),
        });
        Ok(token)
    }

    fn set_effective_context(&self, ctx: u32) -> bool {
        self.effective.set(ctx);
        true
    }

    fn resume(&self) -> Result<(), u32> {
        self.resumed.borrow_mut().push(self.effective.get());
        Ok(())
    }

    fn send_response(&self, status: u32, _: &[(&str, &str)], _: &[u8]) -> Result<(), u32> {
        self.replies
            .borrow_mut()
            .push((self.effective.get(), status));
        Ok(())
    }

    fn set_header(&self, name: &str, value: Option<&str>) -> Result<(), u32> {
        self.headers_set.borrow_mut().push((
            self.effective.get(),
            name.to_owned(),
            value.map(str::to_owned),
        ));
        Ok(())
    }

    fn set_property(&self, _: &str, _: &[u8]) -> Result<(), u32> {
        Ok(())
    }

    fn property(&self, _: &[u8]) -> Option<Vec<u8>> {
        None
    }

    fn set_tick_ms(&self, ms: u64) -> Result<(), u32> {
        self.tick_ms.set(ms);
        Ok(())
    }

    fn define_counter(&self, name: &str) -> Result<u32, u32> {
        let mut names = self.names.borrow_mut();
        let id = names.iter().position(|n| n == name).unwrap_or_else(|| {
            names.push(name.to_owned());
            names.len() - 1
        });
        Ok(u32::try_from(id).unwrap_or(u32::MAX))
    }

    fn increment_counter(&self, id: u32, by: i64) -> Result<(), u32> {
        let name = self.names.borrow()[id as usize].clone();
        *self.counters.borrow_mut().entry(name).or_insert(0) += by;
        Ok(())
    }

    fn call_foreign(&self, _: &str, _: &[u8]) -> Result<Vec<u8>, u32> {
        // A host without verify_signature: the in-wasm engine decides.
        self.foreign_calls.set(self.foreign_calls.get() + 1);
        Err(12)
    }
}
