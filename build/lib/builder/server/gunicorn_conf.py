"""gunicorn settings for flowdesk: `gunicorn -c python:builder.server.gunicorn_conf 'app:create_app()'`.

The threaded worker (gthread) serves both HTTP and Socket.IO: the app is
websocket-only, and each open websocket holds one thread for as long as the page
is open, so a worker needs many threads. Live events reach every process through
the Redis message queue, so no sticky sessions are needed between web processes.
Every value can be changed from the environment without editing this file.
"""

from __future__ import annotations

import os

import gunicorn.http.wsgi

# Where to listen: HOST and PORT, as `make run` reads them.
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"]
worker_class = "gthread"
# Processes per machine (gunicorn's own convention) and threads per process.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "50"))  # one per open websocket or in-flight request
# A gthread worker reports to the arbiter from its event loop, not from the requests, so long-lived
# websockets never trip this; it only catches a worker that is stuck altogether.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
# Stopping waits this long for in-flight requests. Websockets never finish on their own; pages
# reconnect to another process (or this one, restarted) and refetch, so do not wait long for them.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "10"))
keepalive = 5  # seconds an idle HTTP keep-alive connection is kept
# Access log on stdout, errors on stderr, as a process manager or container runtime expects.
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# Trust X-Forwarded-* only from the proxy in front (FORWARDED_ALLOW_IPS, e.g. its address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "flowdesk-web"

# Do not tell the world which server (and which version) answers: every response says only this.
SERVER_NAME = "flowdesk"
gunicorn.http.wsgi.SERVER = SERVER_NAME  # read when each response is made, in every worker
gunicorn.http.wsgi.SERVER_SOFTWARE = SERVER_NAME  # what the app sees as SERVER_SOFTWARE

