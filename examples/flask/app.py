"""A small Flask application: a streamed response, a counter in the session, and a JSON API.

Served by wsgi-host as ``app:app`` (see wsgi-host.toml and README.md).
"""

import json
import os
import platform
import re
import time
from collections import Counter
from importlib.metadata import version

from flask import Flask, Response, jsonify, request, session, stream_with_context
from werkzeug.exceptions import HTTPException

app = Flask(__name__)
# The session is a cookie signed with this key. Every worker process must have the same key, so it
# comes from the environment (wsgi-host.toml: env in the [[group]]), never from os.urandom here.
app.config['SECRET_KEY'] = os.environ.get('FLASK_SECRET_KEY', 'dev-only-change-me')


@app.get('/')
def index():
    return Response(
        'Try:\n'
        '  /stream?count=5&delay=0.3   chunks sent as they are made\n'
        '  /counter                     a counter kept in the session cookie\n'
        '  /api/info                    JSON about this process\n'
        '  POST /api/wordcount          {"text": "..."} -> word counts\n',
        mimetype='text/plain',
    )


@app.get('/stream')
def stream():
    count = min(request.args.get('count', 10, type=int), 100)
    delay = min(request.args.get('delay', 0.5, type=float), 5.0)

    def generate():
        for i in range(count):
            if i:
                time.sleep(delay)
            yield f'chunk {i} at {time.time():.3f}\n'

    # Each yielded string is sent to the client at once: nothing waits for the end.
    return Response(stream_with_context(generate()), mimetype='text/plain')


@app.get('/counter')
def counter():
    session['count'] = session.get('count', 0) + 1
    return jsonify(count=session['count'])


@app.post('/counter/reset')
def reset_counter():
    session.pop('count', None)
    return jsonify(count=0)


@app.get('/api/info')
def info():
    return jsonify(
        python=platform.python_version(),
        flask=version('flask'),
        pid=os.getpid(),
        script_name=request.script_root,
    )


@app.post('/api/wordcount')
def wordcount():
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get('text'), str):
        return jsonify(error='send a JSON object with a "text" string'), 400
    words = re.findall(r"[\w']+", data['text'].lower())
    top = Counter(words).most_common(int(data.get('top', 3)))
    return jsonify(words=len(words), distinct=len(set(words)), top=[{'word': w, 'count': c} for w, c in top])


@app.errorhandler(HTTPException)
def api_error(error):
    """Errors under /api/ as JSON, keeping their status and headers (such as a 405's Allow)."""
    if not request.path.startswith('/api/'):
        return error
    response = error.get_response()
    response.data = json.dumps({'error': error.description})
    response.content_type = 'application/json'
    return response
