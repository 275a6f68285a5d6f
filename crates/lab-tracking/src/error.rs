//! MLflow's errors: `{"error_code": …, "message": …}` with the HTTP status
//! MLflow gives each code. A client's mistake is never a 500: MLflow's
//! client retries 5xx answers for minutes before it gives up.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lab_store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            code: "INVALID_PARAMETER_VALUE",
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            code: "RESOURCE_DOES_NOT_EXIST",
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            code: "BAD_REQUEST",
            message: message.into(),
        }
    }

    pub fn endpoint_not_found(path: &str) -> Self {
        ApiError {
            code: "ENDPOINT_NOT_FOUND",
            message: format!(
                "MLOps Lab's tracking server has no endpoint {path}; it serves MLflow's tracking and registry REST API under /api/2.0/mlflow/"
            ),
        }
    }

    pub fn missing(param: &str) -> Self {
        ApiError::invalid(format!(
            "Missing value for required parameter '{param}'. See the API docs for more information about request parameters."
        ))
    }

    pub fn status(&self) -> StatusCode {
        match self.code {
            "RESOURCE_DOES_NOT_EXIST" | "ENDPOINT_NOT_FOUND" => StatusCode::NOT_FOUND,
            "PERMISSION_DENIED" => StatusCode::FORBIDDEN,
            "METHOD_NOT_ALLOWED" => StatusCode::METHOD_NOT_ALLOWED,
            "TEMPORARILY_UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL_ERROR" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        let code = match &e {
            StoreError::NotFound(_) => "RESOURCE_DOES_NOT_EXIST",
            StoreError::AlreadyExists(_) => "RESOURCE_ALREADY_EXISTS",
            StoreError::Invalid(_) | StoreError::PathEscape(_) => "INVALID_PARAMETER_VALUE",
            // Another writer held the database past the busy timeout: the
            // client may retry, and does on 503.
            StoreError::Sqlite(rusqlite_err) if is_busy(rusqlite_err) => "TEMPORARILY_UNAVAILABLE",
            StoreError::Sqlite(_) | StoreError::Io { .. } | StoreError::SchemaTooNew { .. } => {
                tracing::error!(error = %e, "tracking server: store failure");
                "INTERNAL_ERROR"
            }
        };
        ApiError { code, message }
    }
}

fn is_busy(e: &lab_store::SqliteError) -> bool {
    e.sqlite_error_code().is_some_and(|c| {
        matches!(
            c,
            lab_store::SqliteErrorCode::DatabaseBusy | lab_store::SqliteErrorCode::DatabaseLocked
        )
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error_code": self.code, "message": self.message });
        (self.status(), axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
