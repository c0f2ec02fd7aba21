//! The MCP server's pure core: JSON-RPC messages (`jsonrpc`), which revision a request
//! speaks and what each era checks (`revision`), and the endpoint's `Origin` rule
//! (`origin`). The endpoint itself (`/mcp`, Streamable HTTP) lives in the shell.

pub mod jsonrpc;
pub mod origin;
pub mod revision;
