#!/usr/bin/env bash
# Private, real mail servers on 127.0.0.1 for the conformance tests: a Dovecot (IMAP, POP3,
# LMTP) and a Postfix (SMTP) that delivers to Dovecot over LMTP. Everything of an instance
# lives under one folder DIR (config, queue, maildirs, logs, TLS certificate); the
# system-wide Postfix/Dovecot are never configured, started or stopped.
#
# Needs root and the packages from scripts/install-mail-servers.sh.
#
# Usage:
#   scripts/mail-servers.sh start DIR               start (or restart) the servers, wait until all ports answer
#   scripts/mail-servers.sh stop DIR                stop them; a no-op when nothing runs
#   scripts/mail-servers.sh status DIR              exit 0 when both servers of DIR run
#   scripts/mail-servers.sh deliver DIR USER FILE   drop a raw RFC 822 message (FILE, or - for stdin)
#                                                   into USER's INBOX (Maildir/new), bypassing SMTP
#   scripts/mail-servers.sh reset-uidvalidity DIR USER N
#                                                   set the UIDVALIDITY of USER's INBOX to N (running DIR)
# USER is a full address (contact@example.test) or just its local part (contact).
#
# Environment (read by start; the values used are written to DIR/servers.env):
#   MAIL_SMTP_PORT  (21025)  Postfix smtpd, STARTTLS offered, relaying to example.test from 127.0.0.0/8
#   MAIL_IMAP_PORT  (21143)  Dovecot IMAP, plaintext login allowed, STARTTLS offered
#   MAIL_IMAPS_PORT (21993)  Dovecot IMAP over implicit TLS
#   MAIL_POP3_PORT  (21110)  Dovecot POP3, plaintext login allowed, STLS offered
#   MAIL_POP3S_PORT (21995)  Dovecot POP3 over implicit TLS
#   MAIL_LMTP_PORT  (21024)  Dovecot LMTP (Postfix delivers here)
#   MAIL_SUBMISSION_PORT (21587) Postfix submission: STARTTLS required, AUTH required (checked by
#                            Dovecot), reject_sender_login_mismatch: a login may use as MAIL FROM its
#                            own address, and user@example.test also queue@example.test
#   MAIL_USERS               extra users, space separated local parts (password "secret" too)
#   MAIL_START_TIMEOUT (30)  seconds start waits for the ports before failing
#   MAIL_EMPTY (no)          yes: start with every mailbox and the Postfix queue empty, deleting the
#                            mail an earlier run left in DIR (the conformance profile sets it, so a
#                            second run of the tests sees what a first one sees)
#   MAIL_VMAIL_USER (vmail)  system user owning the mail files
#   MAIL_OAUTH2_INTROSPECTION_URL (unset)
#                            opt-in OAuth2: Dovecot also takes XOAUTH2 and OAUTHBEARER logins and
#                            checks each token by RFC 7662 introspection (POST token=...) at this URL
#                            (e.g. http://127.0.0.1:8080/introspect, answering {"active":true,
#                            "username":"user@example.test"}); passwords stay PLAIN/LOGIN only; and
#                            Postfix offers SMTP AUTH through Dovecot (AUTH PLAIN LOGIN XOAUTH2
#                            OAUTHBEARER), which 127.0.0.0/8 may still skip.
#
# Users: user, contact, queue, forward, other, nodes @example.test (+ MAIL_USERS), password "secret";
# the login name is the full address. A Dovecot master user, admin@example.test with password
# "admin-secret", may open any user's mailbox: by SASL PLAIN with the user as authorization
# identity, or by logging in as "user@example.test*admin@example.test" (separator "*"). Every
# user's Sent folder is marked \Sent (SPECIAL-USE) and created when first used. The user
# list is rewritten by every start (mail already in DIR/mail stays, unless MAIL_EMPTY=yes). SMTP offers no AUTH:
# 127.0.0.0/8 may send without it (mynetworks). MAIL FROM:<refused@example.test> is answered
# 553 5.7.1, as Postfix's reject_sender_login_mismatch answers a sender the login may not use.
# At RCPT time Postfix answers
#   soft@example.test   450 4.2.0 try later
#   hard@example.test   550 5.1.1 no such user
#   other unknown users of example.test: 550 5.1.1 ... User unknown in virtual mailbox table
#     (refused during the SMTP dialogue, never accepted and bounced later)
#   gone@example.test   250: accepted (it is in Postfix's mailbox list) but unknown to Dovecot, whose
#                       LMTP refuses it (550 5.1.1 User doesn't exist); Postfix then bounces it: an
#                       RFC 3464 report from MAILER-DAEMON in the sender's mailbox
#   any other domain:   550 5.7.1 ... this test server delivers only to example.test (its transport
#                       is "error", which smtpd already applies at RCPT: nothing is queued, no DNS)
#
# start restarts a DIR that already runs, fails clearly when a port is taken by something else,
# and first stops "orphans": servers of this script whose DIR was deleted while they ran.
set -euo pipefail

DOMAIN=example.test
PASSWORD=secret
BASE_USERS=(user contact queue forward other nodes)

SMTP_PORT=${MAIL_SMTP_PORT:-21025}
IMAP_PORT=${MAIL_IMAP_PORT:-21143}
IMAPS_PORT=${MAIL_IMAPS_PORT:-21993}
POP3_PORT=${MAIL_POP3_PORT:-21110}
POP3S_PORT=${MAIL_POP3S_PORT:-21995}
LMTP_PORT=${MAIL_LMTP_PORT:-21024}
SUBMISSION_PORT=${MAIL_SUBMISSION_PORT:-21587}
START_TIMEOUT=${MAIL_START_TIMEOUT:-30}
OAUTH2_INTROSPECTION_URL=${MAIL_OAUTH2_INTROSPECTION_URL:-}
VMAIL_USER=${MAIL_VMAIL_USER:-vmail}

log() { printf 'mail-servers: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# usage [STATUS]: prints the usage lines of the header; to stdout when asked for (status 0).
usage() {
    local rc=${1:-2}
    if ((rc == 0)); then
        sed -n '9,17p' "$0" | sed 's/^# \{0,1\}//'
    else
        sed -n '9,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    fi
    exit "$rc"
}

# CI runs us with no standard input at all (fd 0 closed). A daemon started from here would
# then get its first socket or log file as fd 0 and misbehave, so make sure 0-2 are open.
{ : <&0; } 2>/dev/null || exec </dev/null
{ : >&1; } 2>/dev/null || exec >/dev/null
{ : >&2; } 2>/dev/null || exec 2>/dev/null

# ---------------------------------------------------------------------------------------------
# Paths of an instance
# ---------------------------------------------------------------------------------------------

# set_paths DIR [create]: makes DIR absolute and defines every path below it.
set_paths() {
    local dir=$1 create=${2:-}
    [[ -n $dir ]] || usage
    [[ $dir == /* ]] || dir=$PWD/$dir
    # The path ends up unquoted in main.cf, dovecot.conf (where ':' ',' '%' and spaces have a
    # meaning, e.g. in mail_location) and servers.env, so only plain characters are allowed.
    local re='^/[A-Za-z0-9._/+-]+$'
    [[ $dir =~ $re ]] || die "DIR must be a path made of letters, digits and . _ / + - only (got '$dir')"
    if [[ $create == create ]]; then
        mkdir -p -- "$dir"
    fi
    DIR=$dir
    if [[ -d $dir ]]; then
        DIR=$(cd -- "$dir" && pwd -P)
        [[ $DIR =~ $re ]] || die "DIR resolves to '$DIR': only letters, digits and . _ / + - are allowed"
    fi

    # Postfix's queue and data folders must not lie inside its config_directory: "postfix start"
    # checks that everything below config_directory belongs to root and would print a dozen
    # "not owned by root" warnings for the queue's subfolders (owned by postfix by design).
    PF_CONF=$DIR/postfix/conf       # Postfix config_directory (main.cf, master.cf, maps)
    PF_QUEUE=$DIR/postfix/queue     # queue_directory (owned by root, subfolders by postfix)
    PF_DATA=$DIR/postfix/data       # data_directory (owned by postfix)
    DC_DIR=$DIR/dovecot
    DC_CONF=$DC_DIR/dovecot.conf
    DC_USERS=$DC_DIR/users          # passwd-file
    DC_MASTERS=$DC_DIR/master-users # passwd-file of master users (may log in as any user)
    DC_STATE=$DC_DIR/state
    DC_OAUTH2=$DC_DIR/oauth2.conf  # oauth2 passdb settings (MAIL_OAUTH2_INTROSPECTION_URL only)
    MAIL_ROOT=$DIR/mail             # maildir of a user: $MAIL_ROOT/<address>/Maildir
    LOG_DIR=$DIR/log
    TLS_DIR=$DIR/tls
    CA_PEM=$DIR/ca.pem
    ENV_FILE=$DIR/servers.env
    START_LOG=$LOG_DIR/start.log    # stdout/stderr of the daemons' start commands

    DC_BASE=$DC_DIR/run             # Dovecot base_dir (its UNIX sockets, master.pid)
    PF_QUEUE_CONF=$PF_QUEUE         # queue_directory as written in main.cf
    DIR_ALIAS=""

    # UNIX socket paths are limited to 107 bytes (sun_path). Dovecot's base_dir holds sockets
    # with names up to ~25 bytes ("token-login/imap-urlauth"), and Postfix's postlog socket is
    # opened by absolute path (queue/public/postlog). A deep DIR (a CI checkout's target/
    # folder, say) makes them fail with "File name too long" / "unix-domain name too long".
    # Then:
    # - Postfix reaches its queue through a short symlink /tmp/mail-servers.<hash> -> DIR
    #   (it chdirs there and uses the path as written);
    # - Dovecot's base_dir (runtime sockets and pid only, no mail) becomes the real folder
    #   /tmp/mail-servers.<hash>.run: a symlink does not help there, because Dovecot's mail
    #   processes connect to the resolved path.
    if ((${#DIR} > 64)); then
        DIR_ALIAS=/tmp/mail-servers.$(printf '%s' "$DIR" | md5sum | cut -c1-12)
        PF_QUEUE_CONF=$DIR_ALIAS/postfix/queue
        DC_BASE=$DIR_ALIAS.run
    fi
    INSTANCE=mailtest-$(printf '%s' "$DIR" | md5sum | cut -c1-8)
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (Postfix and Dovecot start as root and drop privileges)"
}

require_tools() {
    local tool missing=()
    for tool in postfix postconf dovecot doveadm doveconf openssl; do
        command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) || die "missing ${missing[*]}: run scripts/install-mail-servers.sh first"
    getent passwd "$VMAIL_USER" >/dev/null ||
        die "system user $VMAIL_USER missing: run scripts/install-mail-servers.sh first"
}

# The full list of addresses (base users + MAIL_USERS), one per line.
all_users() {
    local u
    for u in "${BASE_USERS[@]}" ${MAIL_USERS:-}; do
        u=${u%"@$DOMAIN"}
        [[ $u =~ ^[A-Za-z0-9._+-]+$ ]] || die "bad user '$u' in MAIL_USERS (local parts of @$DOMAIN only)"
        printf '%s@%s\n' "$u" "$DOMAIN"
    done | awk '!seen[$0]++'
}

# Full address from "contact" or "contact@example.test".
full_address() {
    local u=$1
    [[ $u == *@* ]] || u=$u@$DOMAIN
    printf '%s\n' "$u"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive PIDFILE NAME: the process named in PIDFILE runs and is called NAME (a stale pid
# file, e.g. after a reboot, may name an unrelated process). A zombie counts as gone: the
# daemons double-fork, so their parent is PID 1, and the init of some containers/VMs reaps
# only every few seconds - "kill -0" would report an exited master as alive that long.
pid_alive() {
    local pid_file=$1 name=$2 pid stat
    [[ -r $pid_file ]] || return 1
    pid=$(tr -dc '0-9' <"$pid_file")
    [[ -n $pid ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $stat == "$pid ($name) "* ]] || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

postfix_running() {
    [[ -f $PF_CONF/main.cf ]] && pid_alive "$PF_QUEUE/pid/master.pid" master
}

dovecot_running() {
    pid_alive "$DC_BASE/master.pid" dovecot
}

# wait_gone PIDFILE NAME: waits (max 20 s) until that process has exited, so that its ports
# are free for an immediate restart.
wait_gone() {
    local i
    for ((i = 0; i < 200; i++)); do
        pid_alive "$1" "$2" || return 0
        sleep 0.1
    done
    return 1
}

print_logs() {
    local f
    for f in "$START_LOG" "$LOG_DIR/postfix.log" "$LOG_DIR/dovecot.log"; do
        if [[ -s $f ]]; then
            printf '\n===== %s (last 60 lines) =====\n' "$f" >&2
            tail -n 60 "$f" >&2
        fi
    done
}

# The short symlink for a long DIR (see set_paths); also needed by "postfix stop".
make_alias() {
    if [[ -e $DIR_ALIAS && ! -L $DIR_ALIAS ]]; then
        die "$DIR_ALIAS exists and is not a symlink: remove it"
    fi
    ln -sfn "$DIR" "$DIR_ALIAS"
}

# ---------------------------------------------------------------------------------------------
# stop
# ---------------------------------------------------------------------------------------------

do_stop() {
    local pid out=/dev/null
    [[ ! -d $LOG_DIR ]] || out=$START_LOG
    # Postfix first: it is Dovecot's LMTP client.
    if postfix_running; then
        [[ -z $DIR_ALIAS ]] || make_alias
        log "stopping Postfix ($PF_CONF)"
        postfix -c "$PF_CONF" stop </dev/null >>"$out" 2>&1 || true
        if ! wait_gone "$PF_QUEUE/pid/master.pid" master; then
            pid=$(tr -dc '0-9' <"$PF_QUEUE/pid/master.pid")
            log "Postfix master $pid still runs after 20 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    if dovecot_running; then
        log "stopping Dovecot ($DC_CONF)"
        # What "doveadm -c CONF stop" does, minus its wait: doveadm waits until the master's
        # PID vanishes, which takes ~3 s when PID 1 is slow to reap the exited master (see
        # pid_alive); wait_gone below stops waiting once it is a zombie (~1 s).
        pid=$(tr -dc '0-9' <"$DC_BASE/master.pid")
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$DC_BASE/master.pid" dovecot; then
            pid=$(tr -dc '0-9' <"$DC_BASE/master.pid")
            log "Dovecot master $pid still runs after 20 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    return 0
}

cmd_stop() {
    (($# == 1)) || usage
    set_paths "$1"
    if [[ ! -d $DIR ]]; then
        log "$DIR does not exist: nothing to stop"
        return 0
    fi
    require_root
    do_stop
    # The short paths of a long DIR (see set_paths) are not needed until the next start.
    if [[ -n $DIR_ALIAS ]]; then
        [[ ! -L $DIR_ALIAS ]] || rm -f "$DIR_ALIAS"
        rm -rf "$DC_BASE"
    fi
    log "stopped ($DIR)"
}

cmd_status() {
    (($# == 1)) || usage
    set_paths "$1"
    local rc=0
    if postfix_running; then log "Postfix runs"; else log "Postfix does not run"; rc=1; fi
    if dovecot_running; then log "Dovecot runs"; else log "Dovecot does not run"; rc=1; fi
    return $rc
}

# ---------------------------------------------------------------------------------------------
# start: configuration files
# ---------------------------------------------------------------------------------------------

make_tls() {
    # Kept across restarts of the same DIR so a client that already trusts ca.pem still does.
    if [[ ! -s $TLS_DIR/cert.pem || ! -s $TLS_DIR/key.pem ]]; then
        log "creating a self-signed certificate (CN=localhost, DNS:localhost, IP:127.0.0.1)"
        # Self-signed, so clients trust exactly this certificate (ca.pem). It is marked as a
        # CA as well as a TLS server certificate, so tools that only accept CA certificates
        # as trust anchors take it too; the SANs let clients that verify host names connect
        # to "localhost" as well as to "127.0.0.1" (Java's endpoint identification needs the
        # IP SAN for the latter: CN is not consulted).
        openssl req -x509 -nodes -newkey rsa:2048 -sha256 -days 3650 \
            -subj "/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
            -addext "extendedKeyUsage=serverAuth" \
            -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" >"$TLS_DIR/openssl.log" 2>&1 ||
            { cat "$TLS_DIR/openssl.log" >&2; die "openssl could not create the certificate"; }
        rm -f "$TLS_DIR/openssl.log"
    fi
    # Both daemons read the key as root before dropping privileges.
    chmod 0600 "$TLS_DIR/key.pem"
    chmod 0644 "$TLS_DIR/cert.pem"
    cp "$TLS_DIR/cert.pem" "$CA_PEM"
    chmod 0644 "$CA_PEM"
}

make_users() {
    local vmail_uid vmail_gid addr
    vmail_uid=$(id -u "$VMAIL_USER")
    vmail_gid=$(id -g "$VMAIL_USER")
    : >"$DC_USERS.tmp"
    : >"$PF_CONF/virtual_mailboxes.tmp"
    while read -r addr; do
        # passwd-file: user:password:uid:gid:gecos:home:shell:extra (uid/gid/home come from
        # userdb default_fields).
        printf '%s:{PLAIN}%s::::::\n' "$addr" "$PASSWORD" >>"$DC_USERS.tmp"
        printf '%s OK\n' "$addr" >>"$PF_CONF/virtual_mailboxes.tmp"
        # Maildir created up front (owned by the mail user) so "deliver" and a first
        # POP3/IMAP login find the folders even before any mail arrived.
        install -d -o "$vmail_uid" -g "$vmail_gid" -m 0700 \
            "$MAIL_ROOT/$addr" "$MAIL_ROOT/$addr/Maildir" \
            "$MAIL_ROOT/$addr/Maildir/cur" "$MAIL_ROOT/$addr/Maildir/new" "$MAIL_ROOT/$addr/Maildir/tmp"
    done < <(all_users)
    # gone@ is accepted at RCPT and refused at delivery, so Postfix bounces it (no Maildir, no login).
    printf 'gone@%s OK\n' "$DOMAIN" >>"$PF_CONF/virtual_mailboxes.tmp"
    # The auth process runs as user "dovecot" and reads the passwd-file itself.
    chown root:dovecot "$DC_USERS.tmp"
    chmod 0640 "$DC_USERS.tmp"
    mv -f "$DC_USERS.tmp" "$DC_USERS"
    printf '%s:{PLAIN}%s::::::\n' "admin@example.test" "admin-secret" >"$DC_MASTERS.tmp"
    chown root:dovecot "$DC_MASTERS.tmp"
    chmod 0640 "$DC_MASTERS.tmp"
    mv -f "$DC_MASTERS.tmp" "$DC_MASTERS"
    mv -f "$PF_CONF/virtual_mailboxes.tmp" "$PF_CONF/virtual_mailboxes"
}

write_dovecot_conf() {
    local vmail_uid mechanisms="plain login" password_mechanisms="" oauth2_passdb=""
    # Postfix's smtpd asks Dovecot to check SMTP AUTH (smtpd_sasl_type = dovecot): the
    # submission port always, the SMTP port in OAuth2 mode.
    local sasl_listener="service auth {
  unix_listener $DC_BASE/auth-postfix {
    mode = 0666
  }
}"
    vmail_uid=$(id -u "$VMAIL_USER")
    if [[ -n $OAUTH2_INTROSPECTION_URL ]]; then
        mechanisms="plain login xoauth2 oauthbearer"
        # Without this limit the passwd-file passdb would take a user's password as an
        # XOAUTH2/OAUTHBEARER "token".
        password_mechanisms="  mechanisms = plain login"
        oauth2_passdb="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DC_OAUTH2
}"
        printf '%s\n' "# Generated by scripts/mail-servers.sh (MAIL_OAUTH2_INTROSPECTION_URL)." \
            "introspection_mode = post" \
            "introspection_url = $OAUTH2_INTROSPECTION_URL" \
            "username_attribute = username" \
            "active_attribute = active" \
            "active_value = true" \
            "timeout_msecs = 5000" >"$DC_OAUTH2"
        chown root:dovecot "$DC_OAUTH2"
        chmod 0640 "$DC_OAUTH2"
    else
        rm -f "$DC_OAUTH2"
    fi
    cat >"$DC_CONF" <<EOF
# Generated by scripts/mail-servers.sh - private test instance, rewritten on every start.
# Standalone: does not include /etc/dovecot/conf.d.
instance_name = $INSTANCE
base_dir = $DC_BASE
state_dir = $DC_STATE
protocols = imap pop3 lmtp
listen = 127.0.0.1
log_path = $LOG_DIR/dovecot.log
auth_verbose = yes

ssl = yes
ssl_cert = <$TLS_DIR/cert.pem
ssl_key = <$TLS_DIR/key.pem
ssl_min_protocol = TLSv1.2
# Tests log in with plaintext passwords on the non-TLS ports too.
disable_plaintext_auth = no
auth_mechanisms = $mechanisms

# Fast tests: no delay after a failed login, and the auth-penalty socket made unusable
# (mode 0) - otherwise each failed login from 127.0.0.1 delays the next by 2, 6, 10, 15 s.
# A failed login still takes up to 0.5 s: Dovecot 2.3 flushes its queue of failure replies
# on a fixed 500 ms timer, and the "nodelay" passdb field that would skip it is dropped
# when the password does not match.
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

# Dovecot refuses to run mail processes as root: the mail belongs to $VMAIL_USER.
first_valid_uid = $vmail_uid
mail_uid = $VMAIL_USER
mail_gid = $VMAIL_USER
mail_location = maildir:$MAIL_ROOT/%u/Maildir
pop3_uidl_format = %08Xu%08Xv

# Master users first: one administrator credential for every mailbox (SASL PLAIN authzid, or
# "user*admin"). pass = yes still looks the target user up below, so only existing users open.
auth_master_user_separator = *
passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN username_format=%u $DC_MASTERS
$password_mechanisms
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DC_USERS
$password_mechanisms
}
$oauth2_passdb
$sasl_listener
userdb {
  driver = passwd-file
  args = username_format=%u $DC_USERS
  default_fields = uid=$VMAIL_USER gid=$VMAIL_USER home=$MAIL_ROOT/%u
}

# Every user has a Sent folder marked \\Sent (RFC 6154 SPECIAL-USE), created at first use: the copy
# to Sent (ImapSentFolder) finds it by SPECIAL-USE, as on Exchange, Gmail and most servers.
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}

# Tests open many parallel sessions for one user (the default limit is 10).
protocol imap {
  mail_max_userip_connections = 500
}
protocol pop3 {
  mail_max_userip_connections = 500
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $POP3S_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
EOF
}

# SMTP AUTH through Dovecot, only with MAIL_OAUTH2_INTROSPECTION_URL (see the header).
postfix_sasl_settings() {
    [[ -n $OAUTH2_INTROSPECTION_URL ]] || return 0
    printf '%s\n' "# SMTP AUTH (PLAIN LOGIN XOAUTH2 OAUTHBEARER) checked by Dovecot; 127.0.0.0/8 may still send without." \
        "smtpd_sasl_auth_enable = yes" \
        "smtpd_sasl_type = dovecot" \
        "smtpd_sasl_path = $DC_BASE/auth-postfix"
}

write_postfix_conf() {
    cat >"$PF_CONF/main.cf" <<EOF
# Generated by scripts/mail-servers.sh - private test instance, rewritten on every start.
compatibility_level = 3.6

# Installed with "No configuration", Debian has no /etc/postfix/main.cf: the directories
# Postfix would otherwise take from there are spelled out.
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
queue_directory = $PF_QUEUE_CONF
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-$INSTANCE

# There is no syslog daemon here: without maillog_file Postfix's errors vanish. The file
# must lie below a prefix listed in maillog_file_prefixes.
maillog_file = $LOG_DIR/postfix.log
maillog_file_prefixes = $LOG_DIR

myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = $DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no

# All of example.test goes to Dovecot over LMTP. The mailbox list lets smtpd refuse
# unknown users at RCPT time (550 5.1.1) instead of accepting and bouncing later.
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$PF_CONF/virtual_mailboxes
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT

# Nothing leaves the machine: other domains resolve to the error transport, which smtpd
# turns into a 550 at RCPT time (no queueing, no DNS lookups).
relay_domains =
default_transport = error:5.7.1 this test server delivers only to $DOMAIN
relay_transport = error:5.7.1 this test server delivers only to $DOMAIN

# refused@ as a sender -> 553, the answer of reject_sender_login_mismatch (texthash).
smtpd_sender_restrictions =
    check_sender_access texthash:$PF_CONF/sender_access

# soft@ -> 450, hard@ -> 550 (texthash: read as is, no postmap needed).
smtpd_recipient_restrictions =
    check_recipient_access texthash:$PF_CONF/recipient_access,
    permit_mynetworks,
    reject_unauth_destination

$(postfix_sasl_settings)

smtpd_tls_cert_file = $TLS_DIR/cert.pem
smtpd_tls_key_file = $TLS_DIR/key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
lmtp_tls_security_level = none

# Fast tests:
# - no reverse DNS lookup of the client (127.0.0.1) - a sandbox may have no resolver;
smtpd_peername_lookup = no
# - no 1 s pause per message when the queue grows faster than it drains;
in_flow_delay = 0
# - no 1 s pause after each rejected command;
smtpd_error_sleep_time = 0
# - a deferred delivery (e.g. Dovecot restarting) is retried within seconds, not minutes.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
EOF

    cat >"$PF_CONF/recipient_access" <<EOF
soft@$DOMAIN 450 4.2.0 try later
hard@$DOMAIN 550 5.1.1 no such user
EOF
    # Who may use which MAIL FROM on the submission port: each user its own address, and
    # user@ also queue@ (the "send as" a server grants a service account).
    all_users | while read -r addr; do
        if [[ $addr == "queue@$DOMAIN" ]]; then
            printf '%s %s, %s\n' "$addr" "$addr" "user@$DOMAIN"
        else
            printf '%s %s\n' "$addr" "$addr"
        fi
    done >"$PF_CONF/sender_logins"

    cat >"$PF_CONF/sender_access" <<EOF
refused@$DOMAIN 553 5.7.1 Sender address rejected: not owned by user
EOF

    # No chroot anywhere (5th column "n"): a chroot would need copies of /etc files inside
    # the queue directory.
    cat >"$PF_CONF/master.cf" <<EOF
# Generated by scripts/mail-servers.sh - private test instance.
# service     type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$SMTP_PORT inet n       -       n       -       -       smtpd
127.0.0.1:$SUBMISSION_PORT inet n   -       n       -       -       smtpd
  -o syslog_name=postfix-$INSTANCE/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path=$DC_BASE/auth-postfix
  -o smtpd_sender_login_maps=texthash:$PF_CONF/sender_logins
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup        unix  n       -       n       60      1       pickup
cleanup       unix  n       -       n       -       0       cleanup
qmgr          unix  n       -       n       300     1       qmgr
tlsmgr        unix  -       -       n       1000?   1       tlsmgr
rewrite       unix  -       -       n       -       -       trivial-rewrite
bounce        unix  -       -       n       -       0       bounce
defer         unix  -       -       n       -       0       bounce
trace         unix  -       -       n       -       0       bounce
verify        unix  -       -       n       -       1       verify
flush         unix  n       -       n       1000?   0       flush
proxymap      unix  -       -       n       -       -       proxymap
proxywrite    unix  -       -       n       -       1       proxymap
smtp          unix  -       -       n       -       -       smtp
relay         unix  -       -       n       -       -       smtp
showq         unix  n       -       n       -       -       showq
error         unix  -       -       n       -       -       error
retry         unix  -       -       n       -       -       error
discard       unix  -       -       n       -       -       discard
lmtp          unix  -       -       n       -       -       lmtp
anvil         unix  -       -       n       -       1       anvil
scache        unix  -       -       n       -       1       scache
postlog       unix-dgram n  -       n       -       1       postlogd
EOF
}

write_env_file() {
    local users
    users=$(all_users | paste -sd, -)
    # KEY=value lines without quotes: readable by "source" in bash and by java.util.Properties.
    cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/mail-servers.sh start - the running test mail servers.
HOST=127.0.0.1
SMTP_PORT=$SMTP_PORT
IMAP_PORT=$IMAP_PORT
IMAPS_PORT=$IMAPS_PORT
POP3_PORT=$POP3_PORT
POP3S_PORT=$POP3S_PORT
LMTP_PORT=$LMTP_PORT
SUBMISSION_PORT=$SUBMISSION_PORT
DOMAIN=$DOMAIN
PASSWORD=$PASSWORD
USERS=$users
STATE_DIR=$DIR
# A user's maildir: \$MAIL_DIR/<address>/Maildir
MAIL_DIR=$MAIL_ROOT
CA_PEM=$CA_PEM
LOG_DIR=$LOG_DIR
POSTFIX_CONF_DIR=$PF_CONF
DOVECOT_CONF=$DC_CONF
OAUTH2_INTROSPECTION_URL=$OAUTH2_INTROSPECTION_URL
EOF
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

# Every daemon runs as some other user and opens files by absolute path below DIR, so each
# folder on the way must be searchable for them. DIR itself is made so; its parents are only
# checked (e.g. a DIR below root's 0700 home cannot work).
check_access() {
    local who
    chmod a+x "$DIR"
    for who in "$VMAIL_USER" dovecot postfix; do
        runuser -u "$who" -- test -x "$DIR" ||
            die "user $who cannot reach $DIR (a parent folder is not searchable, chmod o+x it or use a DIR below /tmp)"
    done
}

# A DIR deleted while its servers ran ("mvn clean" wiping target/, rm -rf of a temp folder)
# leaves masters that no "stop DIR" can reach any more, and they keep the ports. Such a master
# of ours is recognised by its config path, which no longer exists: "dovecot -c .../dovecot/
# dovecot.conf" on its command line, MAIL_CONFIG=.../postfix/conf in Postfix's environment.
reap_orphans() {
    local proc pid cmd conf
    for proc in /proc/[0-9]*; do
        pid=${proc#/proc/}
        cmd=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline") || continue
        conf=""
        case $cmd in
            "/usr/sbin/dovecot -c "*/dovecot/dovecot.conf" ")
                conf=${cmd#/usr/sbin/dovecot -c }
                conf=${conf% }
                ;;
            "/usr/lib/postfix/sbin/master "*)
                conf=$(tr '\0' '\n' 2>/dev/null <"$proc/environ" | sed -n 's/^MAIL_CONFIG=//p') || true
                [[ $conf == */postfix/conf ]] || conf=""
                ;;
        esac
        if [[ -n $conf && ! -e $conf ]]; then
            log "stopping orphaned server $pid: its $conf was deleted while it ran"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------------

start_failed() {
    print_logs
    do_stop
    die "$1"
}

cmd_start() {
    (($# == 1)) || usage
    require_root
    require_tools
    set_paths "$1" create

    local name p seen=" "
    for name in SMTP_PORT IMAP_PORT IMAPS_PORT POP3_PORT POP3S_PORT LMTP_PORT SUBMISSION_PORT; do
        p=${!name}
        if ! [[ $p =~ ^[1-9][0-9]{0,4}$ ]] || ((p > 65535)); then
            die "$name=$p is not a port number"
        fi
        [[ $seen != *" $p "* ]] || die "$name=$p: the same port is used twice"
        seen+="$p "
    done
    all_users >/dev/null
    [[ $START_TIMEOUT =~ ^[0-9]+$ ]] || die "MAIL_START_TIMEOUT=$START_TIMEOUT is not a number of seconds"
    if [[ -n $OAUTH2_INTROSPECTION_URL ]]; then
        local url_re='^https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._~/-]*)?$'
        [[ $OAUTH2_INTROSPECTION_URL =~ $url_re ]] ||
            die "MAIL_OAUTH2_INTROSPECTION_URL=$OAUTH2_INTROSPECTION_URL is not a plain http(s) URL"
    fi

    mkdir -p "$LOG_DIR"
    # Restart cleanly when this DIR already runs (configuration may have changed).
    if postfix_running || dovecot_running; then
        log "$DIR already runs: restarting"
    fi
    do_stop
    rm -f "$ENV_FILE"

    # Another instance (or anything else) on one of our ports would make a daemon fail
    # with a less obvious error, or worse, tests would talk to the wrong server.
    # A few seconds of grace: right after a stop, an exiting child (e.g. an smtpd still
    # finishing a session) may hold a listening socket it inherited from its master.
    local busy_deadline=$((SECONDS + 5)) reaped=""
    for name in SMTP_PORT IMAP_PORT IMAPS_PORT POP3_PORT POP3S_PORT LMTP_PORT SUBMISSION_PORT; do
        while port_open "${!name}"; do
            if [[ -z $reaped ]]; then
                reap_orphans
                reaped=yes
            fi
            ((SECONDS < busy_deadline)) ||
                die "port ${!name} ($name) on 127.0.0.1 is already in use (another instance? set MAIL_$name)"
            sleep 0.2
        done
    done

    check_access
    case ${MAIL_EMPTY:-no} in
    yes)
        # Only what this script made inside DIR, never a path from outside it.
        log "MAIL_EMPTY=yes: deleting the mail and the Postfix queue an earlier run left in $DIR"
        rm -rf -- "$MAIL_ROOT" "$PF_QUEUE"
        ;;
    no) ;;
    *) die "MAIL_EMPTY=$MAIL_EMPTY must be yes or no" ;;
    esac
    mkdir -p "$PF_CONF" "$PF_QUEUE" "$DC_DIR" "$DC_STATE" "$TLS_DIR"
    if [[ -n $DIR_ALIAS ]]; then
        log "long DIR: Postfix's queue reached through $DIR_ALIAS, Dovecot's sockets in $DC_BASE"
        make_alias
    fi
    install -d -o "$VMAIL_USER" -g "$VMAIL_USER" -m 0700 "$MAIL_ROOT"
    install -d -o postfix -g postfix -m 0700 "$PF_DATA"
    : >"$START_LOG"

    make_tls
    write_postfix_conf
    write_dovecot_conf
    make_users
    # Postfix will not read a config or map file whose mtime is less than ~2 s old (it takes
    # it for a file still being written, and re-reads it every 300 ms until it is older):
    # freshly written files would add 2 s to every start. Their mtime is set in the past.
    touch -d "@$(($(date +%s) - 60))" "$PF_CONF/main.cf" "$PF_CONF/master.cf" \
        "$PF_CONF/recipient_access" "$PF_CONF/sender_access" "$PF_CONF/sender_logins" "$PF_CONF/virtual_mailboxes"

    # Dovecot.
    log "starting Dovecot ($DC_CONF)"
    # stdin/stdout/stderr go to the start log, never to our caller: a daemon that keeps the
    # caller's stdout pipe open makes a caller that reads until EOF (a Java ProcessBuilder,
    # $(...) in a shell) hang forever.
    dovecot -c "$DC_CONF" </dev/null >>"$START_LOG" 2>&1 ||
        start_failed "Dovecot did not start"

    # Postfix.
    log "starting Postfix ($PF_CONF)"
    # No separate "postfix post-install create-missing": "postfix start" runs it itself
    # (postfix-script check-fatal) and so creates the queue's subfolders on the first start.
    # Those checks take ~2 s; once the queue exists (a restart), the "quick-start" marker
    # (what "postfix quick-stop" leaves) makes postfix-script skip them.
    if [[ -d $PF_QUEUE/maildrop && -d $PF_QUEUE/pid && -d $PF_QUEUE/public ]]; then
        touch "$PF_QUEUE/quick-start"
    fi
    # postfix(1) prints some fatal errors only to a terminal (it logs to stderr only when
    # stderr is a tty), so with no syslog and no terminal (CI) they would vanish. "script"
    # gives it a pseudo-terminal whose output lands in the start log. Success is judged by
    # the running master, not by script's status: without a usable pty (no /dev/pts)
    # script itself fails, and then plain "postfix start" is tried.
    if command -v script >/dev/null 2>&1; then
        script -qec "postfix -c '$PF_CONF' start" /dev/null </dev/null >>"$START_LOG" 2>&1 || true
    fi
    if ! postfix_running; then
        postfix -c "$PF_CONF" start </dev/null >>"$START_LOG" 2>&1 ||
            start_failed "Postfix did not start"
    fi

    # Both commands return once the masters run, not when the listeners accept connections.
    local deadline=$((SECONDS + START_TIMEOUT)) waiting
    while :; do
        waiting=()
        for name in SMTP_PORT IMAP_PORT IMAPS_PORT POP3_PORT POP3S_PORT LMTP_PORT SUBMISSION_PORT; do
            port_open "${!name}" || waiting+=("$name=${!name}")
        done
        ((${#waiting[@]} == 0)) && break
        if ((SECONDS >= deadline)); then
            start_failed "ports not accepting connections after ${START_TIMEOUT}s: ${waiting[*]}"
        fi
        postfix_running || start_failed "Postfix stopped during start"
        dovecot_running || start_failed "Dovecot stopped during start"
        sleep 0.1
    done

    write_env_file
    log "running: SMTP $SMTP_PORT, IMAP $IMAP_PORT, IMAPS $IMAPS_PORT, POP3 $POP3_PORT, POP3S $POP3S_PORT, LMTP $LMTP_PORT, submission $SUBMISSION_PORT"
    log "settings for tests: $ENV_FILE"
}

# ---------------------------------------------------------------------------------------------
# helpers for loading test data
# ---------------------------------------------------------------------------------------------

cmd_deliver() {
    (($# == 3)) || usage
    require_root
    set_paths "$1"
    local addr file=$3 maildir host now size name tmp
    addr=$(full_address "$2")
    [[ -f $DC_USERS ]] || die "$DIR was never started (no $DC_USERS)"
    cut -d: -f1 "$DC_USERS" | grep -qxF -- "$addr" || die "$addr is not a user of $DIR"
    [[ $file == - || -r $file ]] || die "cannot read $file"

    maildir=$MAIL_ROOT/$addr/Maildir
    install -d -o "$VMAIL_USER" -g "$VMAIL_USER" -m 0700 \
        "$MAIL_ROOT/$addr" "$maildir" "$maildir/cur" "$maildir/new" "$maildir/tmp"

    # Maildir delivery: write into tmp/, then rename into new/ so Dovecot never sees a
    # half-written file. The name follows the maildir convention TIME.MusecPpidRrand.HOST
    # (unique per delivery) plus ",S=size", which Dovecot uses as the message's size.
    host=$(hostname 2>/dev/null || echo localhost)
    host=${host//\//\\057}
    host=${host//:/\\072}
    now=$EPOCHREALTIME
    tmp=$maildir/tmp/${now%.*}.M${now#*.}P$$R$RANDOM$RANDOM.$host
    if [[ $file == - ]]; then
        cat >"$tmp"
    else
        cat -- "$file" >"$tmp"
    fi
    size=$(stat -c %s "$tmp")
    name=${tmp##*/},S=$size
    chown "$VMAIL_USER:$VMAIL_USER" "$tmp"
    chmod 0600 "$tmp"
    mv -n "$tmp" "$maildir/new/$name"
    printf '%s\n' "$maildir/new/$name"
}

cmd_reset_uidvalidity() {
    (($# == 3)) || usage
    require_root
    set_paths "$1"
    local addr n=$3
    addr=$(full_address "$2")
    [[ -f $DC_CONF ]] || die "$DIR was never started (no $DC_CONF)"
    if ! [[ $n =~ ^[1-9][0-9]{0,9}$ ]] || ((n > 4294967295)); then
        die "UIDVALIDITY must be 1..4294967295"
    fi
    # doveadm looks the user up through the running Dovecot's auth service.
    dovecot_running || die "Dovecot of $DIR does not run: start it first"
    # A client that has INBOX selected meanwhile gets "* BYE IMAP session state is
    # inconsistent, please relogin." at its next command; later sessions see the new value.
    doveadm -c "$DC_CONF" mailbox update --uid-validity "$n" -u "$addr" INBOX
}

main() {
    (($# >= 1)) || usage
    local cmd=$1
    shift
    case $cmd in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        deliver) cmd_deliver "$@" ;;
        reset-uidvalidity) cmd_reset_uidvalidity "$@" ;;
        -h | --help | help) usage 0 ;;
        *) usage ;;
    esac
}

main "$@"
