# sipp from Debian (package sip-tester), which ships RFC 4733 DTMF pcaps in /usr/share/sip-tester.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends sip-tester && rm -rf /var/lib/apt/lists/*
COPY sipp/ /sipp/
ENTRYPOINT ["/sipp/call.sh"]
CMD ["4"]
