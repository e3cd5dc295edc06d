# Asterisk 22 built from the release tarball (Debian no longer packages Asterisk), with the
# survey prompts generated at build time. Build once: ~10-15 minutes on 2 cores.
FROM debian:bookworm-slim AS build
ARG ASTERISK_VERSION=22.10.1
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential ca-certificates wget pkg-config bzip2 patch \
      libedit-dev libjansson-dev libsqlite3-dev uuid-dev libxml2-dev libssl-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src
RUN wget -q "https://downloads.asterisk.org/pub/telephony/asterisk/releases/asterisk-${ASTERISK_VERSION}.tar.gz" \
    && tar xzf "asterisk-${ASTERISK_VERSION}.tar.gz"
WORKDIR /usr/src/asterisk-${ASTERISK_VERSION}
RUN ./configure --with-pjproject-bundled --with-jansson-bundled >/dev/null \
    && make menuselect.makeopts \
    && menuselect/menuselect --enable CORE-SOUNDS-EN-GSM --disable BUILD_NATIVE menuselect.makeopts \
    && make -j"$(nproc)" >/dev/null \
    && make install >/dev/null \
    && make install-headers >/dev/null

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libedit2 libjansson4 libsqlite3-0 libuuid1 libxml2 libssl3 libcurl4 ca-certificates espeak-ng sox \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/sbin/asterisk /usr/sbin/asterisk
COPY --from=build /usr/lib/asterisk /usr/lib/asterisk
COPY --from=build /usr/lib/libasterisk* /usr/lib/
COPY --from=build /var/lib/asterisk /var/lib/asterisk
COPY make-prompts.sh /usr/local/bin/make-prompts.sh
# sounds/en/csat, sounds/fr/csat (and sounds/fr/digits): every language the shipped IVRs use.
# spool/recording: Asterisk does not create it, and answers a record request (spoken comments) 500 without it.
RUN /usr/local/bin/make-prompts.sh /var/lib/asterisk/sounds \
    && mkdir -p /var/spool/asterisk/recording /var/log/asterisk /var/run/asterisk /etc/asterisk
COPY conf/ /etc/asterisk/
CMD ["/usr/sbin/asterisk", "-f", "-vvv"]
