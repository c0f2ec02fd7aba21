//! The MCP server's pure core: JSON-RPC messages (`jsonrpc`), which revision a request
//! speaks and what each era checks (`revision`), the endpoint's `Origin` rule (`origin`),
//! the tools an agent is offered (`tools`), a call's arguments parsed into a typed call
//! (`calls`), files as resources (`resources`), and the methods answered without I/O with
//! each revision's result fields (`server`), lines and search hits as an agent reads
//! them (`text`). The endpoint itself (`/mcp`, Streamable HTTP)
//! lives in the shell.

pub mod calls;
pub mod jsonrpc;
pub mod origin;
pub mod resources;
pub mod results;
pub mod revision;
pub mod server;
pub mod text;
pub mod tools;
