//! Who is bound: bind counts per `system_id` (for `max_binds`) and the receiver /
//! transceiver sessions receipts and MO messages are routed to (round robin). Receipts for a
//! system id with no receiver bound are parked until one binds, as a real SMSC stores them.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, atomic::Ordering::Relaxed},
};

use bytes::BytesMut;
use tokio::sync::mpsc;

use super::{receipt::Outcome, stats::Stats};

/// Parked receipts kept per system id; older ones are dropped past this.
const MAX_PARKED: usize = 1_000_000;

/// Something another task wants a session to write.
#[derive(Debug)]
pub enum Outbound {
    /// An encoded PDU whose `sequence_number` the session fills in.
    Pdu(BytesMut, Kind),
}

/// What an outbound `deliver_sm` is, so the session can count it when it writes it.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A receipt with this outcome; `duplicate` for a deliberate second copy.
    Receipt(Outcome, bool),
    /// A mobile-originated message.
    Mo,
    /// A `deliver_sm` (receipt or MO) sent before to a session that closed without its
    /// `deliver_sm_resp`, or answered with an error: sent again, counted only as a
    /// redelivery.
    Redelivery,
}

/// Sender half of a session's outbound queue.
pub type OutTx = mpsc::UnboundedSender<Outbound>;

#[derive(Debug, Default)]
struct SystemBinds {
    binds: u32,
    receivers: Vec<(u64, OutTx)>,
    next: usize,
    parked: VecDeque<(BytesMut, Kind)>,
}

/// Bind bookkeeping shared by all sessions.
#[derive(Debug)]
pub struct Registry {
    inner: Mutex<HashMap<String, SystemBinds>>,
    stats: Arc<Stats>,
}

/// Why a bind was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BindRefusal {
    /// `max_binds` reached.
    TooMany,
}

impl Registry {
    /// An empty registry.
    pub fn new(stats: Arc<Stats>) -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
            stats,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SystemBinds>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a bind; `receiver` is set for receiver and transceiver binds, and gets any
    /// parked receipts at once.
    pub fn bind(
        &self,
        system_id: &str,
        max_binds: u32,
        session: u64,
        receiver: Option<OutTx>,
    ) -> Result<(), BindRefusal> {
        let mut map = self.lock();
        let entry = map.entry(system_id.to_owned()).or_default();
        if entry.binds >= max_binds {
            return Err(BindRefusal::TooMany);
        }
        entry.binds += 1;
        if let Some(tx) = receiver {
            let parked = entry.parked.len() as u64;
            for (pdu, kind) in entry.parked.drain(..) {
                let _ = tx.send(Outbound::Pdu(pdu, kind));
            }
            self.stats.receipts_parked.fetch_sub(parked, Relaxed);
            entry.receivers.push((session, tx));
        }
        Ok(())
    }

    /// Forgets a session's bind.
    pub fn unbind(&self, system_id: &str, session: u64) {
        let mut map = self.lock();
        if let Some(entry) = map.get_mut(system_id) {
            entry.binds = entry.binds.saturating_sub(1);
            entry.receivers.retain(|(id, _)| *id != session);
        }
    }

    /// Sends `pdu` to a receiver of `system_id` (any system when `None`), parking it when
    /// there is none. Returns whether it went out now.
    pub fn route(&self, system_id: Option<&str>, pdu: BytesMut, kind: Kind) -> bool {
        let mut map = self.lock();
        let entry = match system_id {
            Some(id) => map.entry(id.to_owned()).or_default(),
            None => match map.values_mut().find(|e| !e.receivers.is_empty()) {
                Some(e) => e,
                None => return false,
            },
        };
        let mut pdu = pdu;
        while !entry.receivers.is_empty() {
            let i = entry.next % entry.receivers.len();
            entry.next = entry.next.wrapping_add(1);
            match entry.receivers[i].1.send(Outbound::Pdu(pdu, kind)) {
                Ok(()) => return true,
                Err(mpsc::error::SendError(Outbound::Pdu(back, _))) => {
                    // The session is gone but has not unregistered yet.
                    pdu = back;
                    entry.receivers.swap_remove(i);
                }
            }
        }
        if system_id.is_some() {
            if entry.parked.len() >= MAX_PARKED {
                entry.parked.pop_front();
            } else {
                self.stats.receipts_parked.fetch_add(1, Relaxed);
            }
            entry.parked.push_back((pdu, kind));
        }
        false
    }

    /// Like [`route`](Self::route) for one system id, but never parks (MO messages).
    pub fn route_now(&self, system_id: &str, pdu: BytesMut, kind: Kind) -> bool {
        let mut map = self.lock();
        let Some(entry) = map.get_mut(system_id) else {
            return false;
        };
        let mut pdu = pdu;
        while !entry.receivers.is_empty() {
            let i = entry.next % entry.receivers.len();
            entry.next = entry.next.wrapping_add(1);
            match entry.receivers[i].1.send(Outbound::Pdu(pdu, kind)) {
                Ok(()) => return true,
                Err(mpsc::error::SendError(Outbound::Pdu(back, _))) => {
                    pdu = back;
                    entry.receivers.swap_remove(i);
                }
            }
        }
        false
    }
}
