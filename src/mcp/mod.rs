//! The MCP server's pure core: JSON-RPC messages (`jsonrpc`), which revision a request
//! speaks and what each era checks (`revision`), the endpoint's `Origin` rule (`origin`),
//! the tools an agent is offered (`tools`) and a call's arguments parsed into a typed call
//! (`calls`). The endpoint itself (`/mcp`, Streamable HTTP) lives in the shell.

pub mod calls;
pub mod jsonrpc;
pub mod origin;
pub mod revision;
pub mod tools;
