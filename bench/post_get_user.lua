-- wrk script for the unary benchmark: POST with a JSON body, `{"user_id":42}` unless the
-- environment sets WRK_BODY (the peers frame the call differently: bench/targets.ts), as
-- application/json unless it sets WRK_CONTENT_TYPE (application/proto for binary Connect).
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or '{"user_id":42}'
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
