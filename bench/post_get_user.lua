-- wrk script for the unary benchmark: POST /users/get_user with a JSON body.
wrk.method = "POST"
wrk.body = '{"user_id":42}'
wrk.headers["Content-Type"] = "application/json"
