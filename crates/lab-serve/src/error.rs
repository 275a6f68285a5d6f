//! Client errors, shaped the way each protocol shapes them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Open Inference Protocol: `{"error": "..."}`.
    Oip,
    /// MLflow scoring: `{"error_code": "BAD_REQUEST", "message": "..."}`.
    Mlflow,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ServeError {
    pub status: StatusCode,
    pub protocol: Protocol,
    pub message: String,
}

impl ServeError {
    pub fn bad(protocol: Protocol, message: impl Into<String>) -> Self {
        ServeError {
            status: StatusCode::BAD_REQUEST,
            protocol,
            message: message.into(),
        }
    }

    pub fn status(protocol: Protocol, status: StatusCode, message: impl Into<String>) -> Self {
        ServeError {
            status,
            protocol,
            message: message.into(),
        }
    }
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let body = match self.protocol {
            Protocol::Oip => serde_json::json!({ "error": self.message }),
            Protocol::Mlflow => serde_json::json!({
                "error_code": "BAD_REQUEST",
                "message": self.message,
            }),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Turn axum's body-reading rejections (too large, not UTF-8, ...) into our
/// error shape with a 4xx status.
pub(crate) fn from_bytes_rejection(
    protocol: Protocol,
    r: axum::extract::rejection::BytesRejection,
) -> ServeError {
    let status = r.status();
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "the request body is larger than the server's limit: send fewer rows per request"
            .to_string()
    } else {
        r.body_text()
    };
    ServeError::status(protocol, status, message)
}
