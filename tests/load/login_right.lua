wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"username":"loaduser","password":"load-pass-1"}'
