# cognito-harness: the local Cognito User Pool emulator as a container.
#   docker build -t cognito-harness .
#   export COGNITO_HARNESS_CONTROL_TOKEN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
#   docker run --rm -p 127.0.0.1:9229:9229 -e COGNITO_HARNESS_CONTROL_TOKEN cognito-harness
#   (add -v cognito-state:/data to keep pools, users and keys across containers: serve --state /data)
# The server binds 0.0.0.0 inside the container, so `serve` refuses to start without a control
# token: every /_harness call must send `Authorization: Bearer $COGNITO_HARNESS_CONTROL_TOKEN`
# (RemoteControl reads the variable). Publish on 127.0.0.1 only: the control plane mints tokens and
# reads private keys and passwords.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY harness ./harness
COPY scenarios ./scenarios
COPY fixtures ./fixtures
# /data: where `serve --state /data` keeps its file (docker-compose.yml mounts a named volume there;
# a new volume takes this directory's owner, so the unprivileged user can write it).
RUN pip install . && useradd --create-home --uid 10001 harness && install -d -o harness -g harness -m 0700 /data
USER harness

# pip install . ships fixtures/ to <prefix>/share/cognito-harness (harness/bundled.py finds it there).
EXPOSE 9229
CMD ["cognito-harness", "serve", "--host", "0.0.0.0", "--port", "9229", "--state", "/data"]
