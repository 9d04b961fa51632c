//! Connect and bind (SMPP 3.4 §4.1): one TCP connection, one bind request, wait for its
//! response. Everything else that arrives before the response is ignored; the session's
//! caller bounds the whole handshake with `bind_timeout`.

use bytes::BytesMut;
use semalink_protocol::smpp::{Frame, SmppCodec};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::codec::Decoder;

use super::{config::SessionConfig, error::BindError, pdu::encode_bind};

/// The bind request's sequence number; the connection continues from the next one.
pub(crate) const BIND_SEQ: u32 = 1;

/// A bound connection and whatever was read after the bind response.
#[derive(Debug)]
pub(crate) struct Bound {
    pub(crate) stream: TcpStream,
    pub(crate) codec: SmppCodec,
    pub(crate) rbuf: BytesMut,
}

/// Connects to the SMSC and binds as `config` says.
pub(crate) async fn connect_and_bind(config: &SessionConfig) -> Result<Bound, BindError> {
    let addr = format!("{}:{}", config.host, config.port);
    let mut stream = TcpStream::connect(&addr)
        .await
        .map_err(|e| BindError::Connect {
            addr: addr.clone(),
            reason: e.to_string(),
        })?;
    // Small PDUs: latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    let io = |e: std::io::Error| BindError::Io(e.to_string());
    stream
        .write_all(&encode_bind(config, BIND_SEQ))
        .await
        .map_err(io)?;
    let mut codec = SmppCodec::new();
    let mut rbuf = BytesMut::with_capacity(16 * 1024);
    let want = config.bind_type.command_id() | 0x8000_0000;
    loop {
        while let Some(frame) = codec
            .decode(&mut rbuf)
            .map_err(|e| BindError::Protocol(e.to_string()))?
        {
            let Frame::Pdu(command) = frame else { continue };
            if command.sequence_number() != BIND_SEQ {
                continue;
            }
            let id = u32::from(command.id());
            let status = u32::from(command.status());
            if id == want || id == 0x8000_0000 {
                // bind_*_resp, or generic_nack (some SMSCs reject unknown binds that way).
                return if status == 0 && id == want {
                    Ok(Bound {
                        stream,
                        codec,
                        rbuf,
                    })
                } else {
                    Err(BindError::Refused {
                        status: if status == 0 { 0x0D } else { status },
                    })
                };
            }
            return Err(BindError::Protocol(format!(
                "command_id {id:#010x} answered the bind"
            )));
        }
        if stream.read_buf(&mut rbuf).await.map_err(io)? == 0 {
            return Err(BindError::Io("connection closed by the SMSC".into()));
        }
    }
}
