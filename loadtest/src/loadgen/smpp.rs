//! The SMPP blast target: bare pipelined binds that write pre-encoded `submit_sm` as fast as a
//! window allows and read responses and receipts on a separate task. No retries, no
//! throttling: the point is to find the ceiling of the simulator and the loopback.

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use bytes::BytesMut;
use hdrhistogram::Histogram;
use rusmpp::{
    Command, CommandId, CommandStatus, Pdu,
    pdus::{BindTransceiver, SubmitSm},
    types::{COctetString, OctetString},
    values::{EsmClass, InterfaceVersion, RegisteredDelivery},
};
use semalink_protocol::smpp::{
    Frame, SmppCodec, SubmitSmTemplate, put_deliver_sm_resp, put_enquire_link_resp, put_unbind,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpStream, tcp::OwnedWriteHalf},
    sync::{Mutex, Semaphore},
};
use tokio_util::codec::{Decoder, Encoder};

use super::{
    BlastOptions, Run,
    tracker::{Event, Final, histogram},
};
use crate::Error;

/// Where a blast sends.
#[derive(Debug, Clone)]
pub struct SmppTarget {
    /// SMSC address.
    pub addr: std::net::SocketAddr,
    /// Bind credentials.
    pub system_id: String,
    /// Bind password.
    pub password: String,
}

/// Digits at the end of each message text that make every message distinct.
const COUNTER_DIGITS: usize = 10;

/// Builds one template per destination.
pub fn templates(opts: &BlastOptions) -> Result<Vec<SubmitSmTemplate>, Error> {
    let bad = |what: &str| Error::Config(format!("invalid {what}"));
    let text = format!("{} {}", opts.text, "0".repeat(COUNTER_DIGITS));
    opts.destinations
        .iter()
        .map(|dest| {
            let sm = SubmitSm::builder()
                .source_addr(COctetString::from_str(&opts.source).map_err(|_| bad("source"))?)
                .destination_addr(COctetString::from_str(dest).map_err(|_| bad("destination"))?)
                // Explicit: rusmpp's EsmClass::default() is 0x08, not 0.
                .esm_class(EsmClass::from(0x00))
                .registered_delivery(if opts.receipts {
                    RegisteredDelivery::request_all()
                } else {
                    RegisteredDelivery::default()
                })
                .short_message(
                    OctetString::from_str(&text).map_err(|_| bad("text (max 254 octets)"))?,
                )
                .build();
            SubmitSmTemplate::numbered(sm, COUNTER_DIGITS).ok_or_else(|| bad("template"))
        })
        .collect()
}

/// Connects and binds as a transceiver (so receipts come back on the same connection).
pub async fn connect(target: &SmppTarget) -> Result<TcpStream, Error> {
    let mut stream = TcpStream::connect(target.addr).await?;
    stream.set_nodelay(true)?;
    let bind = BindTransceiver::builder()
        .system_id(
            COctetString::from_str(&target.system_id)
                .map_err(|_| Error::Config("system_id".into()))?,
        )
        .password(
            COctetString::from_str(&target.password)
                .map_err(|_| Error::Config("password".into()))?,
        )
        .interface_version(InterfaceVersion::Smpp3_4)
        .build();
    let mut buf = BytesMut::new();
    let _ = SmppCodec::new().encode(
        Command::new(CommandStatus::EsmeRok, 1, Pdu::BindTransceiver(bind)),
        &mut buf,
    );
    stream.write_all(&buf).await?;
    let mut codec = SmppCodec::new();
    let mut rbuf = BytesMut::new();
    loop {
        if let Some(frame) = codec
            .decode(&mut rbuf)
            .map_err(|e| Error::Protocol(e.to_string()))?
        {
            return match frame {
                Frame::Pdu(c)
                    if c.id() == CommandId::BindTransceiverResp
                        && c.status() == CommandStatus::EsmeRok =>
                {
                    Ok(stream)
                }
                Frame::Pdu(c) => Err(Error::Protocol(format!("bind refused: {:?}", c.status()))),
                Frame::Malformed(m) => Err(Error::Protocol(format!(
                    "bind answered with malformed PDU {m:?}"
                ))),
            };
        }
        if stream.read_buf(&mut rbuf).await? == 0 {
            return Err(Error::Protocol("connection closed during bind".into()));
        }
    }
}

/// Per-connection counters handed back when it finishes.
#[derive(Debug)]
pub struct ConnResult {
    /// submit_sm → submit_sm_resp latency (µs).
    pub resp_latency: Histogram<u64>,
}

/// Runs one bind until the run stops and its window drains (or `drain` passes).
pub async fn run_conn(
    stream: TcpStream,
    run: Arc<Run>,
    templates: Arc<Vec<SubmitSmTemplate>>,
) -> Result<ConnResult, Error> {
    let window = run.opts.window.max(1);
    let (rd, wr) = stream.into_split();
    let wr = Arc::new(Mutex::new(wr));
    let permits = Arc::new(Semaphore::new(window));
    let ring: Arc<Vec<AtomicU64>> = Arc::new(
        (0..(window * 2).next_power_of_two())
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    let reader = tokio::spawn(read_loop(
        rd,
        Arc::clone(&wr),
        Arc::clone(&run),
        Arc::clone(&permits),
        Arc::clone(&ring),
    ));
    let mut seq: u32 = 1;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mask = ring.len() - 1;
    'send: while !run.stop.load(Relaxed) {
        // Take as many window slots as are free (at least one), up to one write's worth. A
        // full window that stays full for `drain` means the peer stopped answering: give up.
        let mut last_progress = run.now_us().max(run.last_activity_us.load(Relaxed));
        loop {
            match tokio::time::timeout(Duration::from_millis(100), permits.acquire()).await {
                Ok(Ok(p)) => {
                    p.forget();
                    break;
                }
                Ok(Err(_)) => break 'send,
                Err(_) => {
                    last_progress = last_progress.max(run.last_activity_us.load(Relaxed));
                    let stalled = run.now_us().saturating_sub(last_progress)
                        > run.opts.drain.as_micros() as u64;
                    if run.stop.load(Relaxed) || stalled {
                        break 'send;
                    }
                }
            }
        }
        let mut n = 1;
        while n < 512 {
            match permits.try_acquire() {
                Ok(p) => {
                    p.forget();
                    n += 1;
                }
                Err(_) => break,
            }
        }
        let granted = run.claim(n as u64);
        if granted < n as u64 {
            permits.add_permits(n - granted as usize);
        }
        if granted == 0 {
            break 'send;
        }
        let now = run.now_us();
        for _ in 0..granted {
            let k = run.sent.fetch_add(1, Relaxed);
            seq = if seq >= 0x7FFF_FFFF { 1 } else { seq + 1 };
            ring[seq as usize & mask].store(now, Relaxed);
            templates[(k as usize) % templates.len()].write_numbered(
                seq,
                run.counter_base + k,
                &mut buf,
            );
        }
        run.bucket(now).sent.fetch_add(granted, Relaxed);
        let mut w = wr.lock().await;
        if w.write_all(&buf).await.is_err() {
            break;
        }
        drop(w);
        buf.clear();
    }
    // Wait for the window to drain (every response back) or the drain timeout.
    let drained = tokio::time::timeout(run.opts.drain, async {
        let _ = permits.acquire_many(window as u32).await;
    })
    .await
    .is_ok();
    if drained {
        run.wait_receipts().await;
    }
    {
        let mut w = wr.lock().await;
        let mut b = BytesMut::new();
        put_unbind(&mut b, 0x7FFF_FFFF);
        let _ = w.write_all(&b).await;
    }
    let resp_latency = match tokio::time::timeout(Duration::from_secs(2), reader).await {
        Ok(Ok(h)) => h,
        _ => histogram(),
    };
    Ok(ConnResult { resp_latency })
}

async fn read_loop(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    wr: Arc<Mutex<OwnedWriteHalf>>,
    run: Arc<Run>,
    permits: Arc<Semaphore>,
    ring: Arc<Vec<AtomicU64>>,
) -> Histogram<u64> {
    let mut hist = histogram();
    let mut codec = SmppCodec::new();
    let mut rbuf = BytesMut::with_capacity(128 * 1024);
    let mut out = BytesMut::new();
    let mut events = Vec::with_capacity(1024);
    let mask = ring.len() - 1;
    loop {
        match rd.read_buf(&mut rbuf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let now = run.now_us();
        let (mut resps, mut receipts) = (0u64, 0u64);
        while let Ok(Some(frame)) = codec.decode(&mut rbuf) {
            let Frame::Pdu(c) = frame else { continue };
            let seq = c.sequence_number();
            match c.pdu() {
                _ if c.id() == CommandId::SubmitSmResp => {
                    resps += 1;
                    let sent = ring[seq as usize & mask].load(Relaxed);
                    hist.saturating_record(now.saturating_sub(sent).max(1));
                    run.count_status(c.status());
                    if let Some(Pdu::SubmitSmResp(r)) = c.pdu()
                        && c.status() == CommandStatus::EsmeRok
                    {
                        let id = run
                            .opts
                            .resp_id
                            .parse(r.message_id().as_str())
                            .unwrap_or_else(|| unparsed_id(r.message_id().as_str()));
                        events.push(Event::Accepted { id, at_us: now });
                    }
                }
                Some(Pdu::DeliverSm(d)) => {
                    put_deliver_sm_resp(&mut out, seq, CommandStatus::EsmeRok);
                    if let Some((id, stat)) = parse_receipt(d.short_message().as_ref()) {
                        receipts += 1;
                        let id = run
                            .opts
                            .receipt_id
                            .parse(id)
                            .unwrap_or_else(|| unparsed_id(id));
                        events.push(Event::Receipt {
                            id,
                            state: Final::from_stat(stat),
                            at_us: now,
                        });
                    }
                }
                Some(Pdu::EnquireLink) => put_enquire_link_resp(&mut out, seq),
                Some(Pdu::Unbind) | Some(Pdu::UnbindResp) => {
                    run.tracker.apply(&mut events);
                    return hist;
                }
                _ => {}
            }
        }
        if resps + receipts > 0 {
            run.last_activity_us.fetch_max(now, Relaxed);
        }
        if resps > 0 {
            run.last_response_us.fetch_max(now, Relaxed);
            permits.add_permits(resps as usize);
            run.responses.fetch_add(resps, Relaxed);
            run.bucket(now).responses.fetch_add(resps, Relaxed);
        }
        if receipts > 0 {
            run.bucket(now).receipts.fetch_add(receipts, Relaxed);
        }
        run.tracker.apply(&mut events);
        // Never wait for the writer here: it may be blocked on a full socket while the peer
        // waits for us to read. Unsent deliver_sm_resps go out after a later read.
        if !out.is_empty()
            && let Ok(mut w) = wr.try_lock()
        {
            if w.write_all(&out).await.is_err() {
                break;
            }
            out.clear();
        }
    }
    run.tracker.apply(&mut events);
    hist
}

/// A stable stand-in for an id that does not parse in the expected format, so such ids still
/// correlate with themselves (and show up as unmatched rather than colliding).
fn unparsed_id(id: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish() | (1 << 63)
}

/// Pulls `id:` and `stat:` out of an Appendix B receipt text.
pub fn parse_receipt(text: &[u8]) -> Option<(&str, &[u8])> {
    let field = |name: &[u8]| -> Option<&[u8]> {
        let at = text
            .windows(name.len())
            .position(|w| w.eq_ignore_ascii_case(name))?
            + name.len();
        let rest = &text[at..];
        let end = rest.iter().position(|b| *b == b' ').unwrap_or(rest.len());
        Some(&rest[..end])
    };
    let id = std::str::from_utf8(field(b"id:")?).ok()?;
    Some((id, field(b"stat:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_receipt_fields() {
        let t = b"id:0A1B sub:001 dlvrd:001 submit date:2611260330 done date:2611260331 stat:DELIVRD err:000 text:hi";
        assert_eq!(parse_receipt(t), Some(("0A1B", &b"DELIVRD"[..])));
        assert_eq!(parse_receipt(b"no receipt here"), None);
    }
}
