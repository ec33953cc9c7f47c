-- wrk -s upload.lua: every request is a POST with a 10 MB body (wrk adds Content-Length).
wrk.method = "POST"
wrk.body = string.rep("x", 10 * 1024 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
