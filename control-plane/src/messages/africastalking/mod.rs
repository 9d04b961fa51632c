//! Africa's Talking's SMS API (`POST /version1/messaging`) onto the messages service, so
//! their SDKs send through Sema Link by changing only the base URL: the `apiKey` header is an
//! API key with `messages:send`, the form fields and the `SMSMessageData` answer are theirs.

pub mod routes;
pub mod types;
