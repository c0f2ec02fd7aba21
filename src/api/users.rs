//! Users: the request that makes one and what it answers (its token, shown once).

use super::fields::{display_name, parse_object, reject_unknown, req_string};
use crate::error::AppResult;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct CreateUser {
    pub name: String,
}

impl CreateUser {
    pub fn parse(body: &[u8]) -> AppResult<Self> {
        let m = parse_object(body, false)?;
        reject_unknown(&m, &["name"])?;
        Ok(CreateUser { name: display_name("name", req_string(&m, "name")?)? })
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCreated {
    pub id: String,
    pub name: String,
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fields::err_field;

    #[test]
    fn a_user_has_a_name() {
        assert_eq!(CreateUser::parse(br#"{"name":" Ada "}"#).unwrap().name, "Ada");
        assert_eq!(err_field(CreateUser::parse(b"{}")), "name");
        assert_eq!(err_field(CreateUser::parse(br#"{"name":"a","x":1}"#)), "x");
    }
}
