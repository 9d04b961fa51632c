//! SMPP 3.4 framing over rusmpp: a resync-safe `tokio_util` codec and cheap hand-rolled
//! encoders for the hot PDUs.
//!
//! Why not rusmpp's own `CommandCodec`: it reads the `command_length`, then decodes the body
//! straight out of the read buffer; when the body is malformed it returns an error without
//! consuming the rest of that PDU, so the next read starts in the middle of it and the stream is
//! out of sync for good. [`SmppCodec`] first splits off exactly `command_length` octets, then
//! decodes only that slice: a malformed PDU becomes a [`Frame::Malformed`] *item* (carrying
//! the `command_id` and `sequence_number` to answer with `generic_nack`, SMPP 3.4 §4.3) and the
//! following PDUs decode normally.
//!
//! Only a `command_length` outside `16..=max` is fatal ([`FrameError::BadLength`]): the length
//! is the only thing that says where the next PDU starts, so after a bad one there is no way to
//! resynchronise and the connection must be closed (after a best-effort `generic_nack` with
//! `ESME_RINVCMDLEN`).

mod codec;
mod fast;
mod frame;

pub use codec::{DEFAULT_MAX_COMMAND_LENGTH, HEADER_LEN, SmppCodec};
pub use fast::{
    SubmitSmTemplate, put_deliver_sm_resp, put_enquire_link, put_enquire_link_resp,
    put_generic_nack, put_header, put_submit_sm_resp, put_unbind, put_unbind_resp,
};
pub use frame::{Frame, FrameError, Malformed, MalformedReason};
