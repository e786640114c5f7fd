//! Lua scripts, sent as `EVALSHA` and, to a node that does not know them, as `EVAL`.
//!
//! redis's own `ScriptInvocation` answers `NOSCRIPT` with `SCRIPT LOAD` to every node
//! and tries again; on a cluster that fails while any node is down, and after a failover
//! the retried `EVALSHA` may still reach a node without the script. `EVAL` goes where
//! the key lives (following redirections) and leaves the script cached there.

use deadpool_redis::redis::{self, Cmd, ErrorKind, FromRedisValue, RedisError, ServerErrorKind, ToRedisArgs};

use crate::connection::RedisConnection;

/// A Lua script and its SHA-1.
#[derive(Debug)]
pub(crate) struct LuaScript {
    code: &'static str,
    hashed: redis::Script,
}

impl LuaScript {
    pub(crate) fn new(code: &'static str) -> Self {
        Self { code, hashed: redis::Script::new(code) }
    }

    /// A call of this script, to fill with keys and arguments.
    pub(crate) fn call(&self) -> ScriptCall<'_> {
        ScriptCall { script: self, keys: Vec::new(), args: Vec::new() }
    }
}

/// One call of a [`LuaScript`]: its keys (`KEYS`) and arguments (`ARGV`).
#[derive(Debug)]
pub(crate) struct ScriptCall<'a> {
    script: &'a LuaScript,
    keys: Vec<String>,
    args: Vec<Vec<u8>>,
}

impl ScriptCall<'_> {
    /// Adds a key.
    pub(crate) fn key(&mut self, key: impl Into<String>) -> &mut Self {
        self.keys.push(key.into());
        self
    }

    /// Adds an argument.
    pub(crate) fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        arg.write_redis_args(&mut self.args);
        self
    }

    /// The first key, which decides the node a cluster sends the call to.
    pub(crate) fn first_key(&self) -> Option<&str> {
        self.keys.first().map(String::as_str)
    }

    fn command(&self, name: &str, script: &str) -> Cmd {
        let mut command = redis::cmd(name);
        command.arg(script).arg(self.keys.len()).arg(&self.keys);
        for arg in &self.args {
            command.arg(arg.as_slice());
        }
        command
    }

    /// Runs the call on `connection`: `EVALSHA`, then `EVAL` if the node answered
    /// `NOSCRIPT`.
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        connection: &mut RedisConnection,
    ) -> Result<T, RedisError> {
        match self.command("EVALSHA", self.script.hashed.get_hash()).query_async(connection).await {
            Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                self.command("EVAL", self.script.code).query_async(connection).await
            }
            result => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_carry_their_keys_and_arguments_in_order() {
        let script = LuaScript::new("return 1");
        let mut call = script.call();
        call.key("otp:code:sign_in:{ab}").key("otp:cooldown:sign_in:{ab}").arg(42).arg("x");
        assert_eq!(call.first_key(), Some("otp:code:sign_in:{ab}"));
        let packed = String::from_utf8(call.command("EVAL", "return 1").get_packed_command()).unwrap();
        let parts: Vec<&str> = packed.split("\r\n").filter(|part| !part.starts_with(['*', '$'])).collect();
        assert_eq!(
            parts,
            ["EVAL", "return 1", "2", "otp:code:sign_in:{ab}", "otp:cooldown:sign_in:{ab}", "42", "x", ""]
        );
    }
}
