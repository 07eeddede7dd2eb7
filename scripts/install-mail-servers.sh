#!/usr/bin/env bash
# Installs the real mail servers used by the conformance tests (Debian 12, run as root):
# Postfix, Dovecot (IMAP, POP3, LMTP), swaks and openssl, plus the system user that owns
# the test mail files. The servers themselves are started privately by mail-servers.sh;
# this script never starts or configures the system-wide instances.
#
# Idempotent: when everything is already there it returns within a fraction of a second
# and touches nothing (no apt-get update, no network).
#
# Usage: scripts/install-mail-servers.sh
# Env:   MAIL_VMAIL_USER  name of the user owning the mail files (default: vmail)
set -euo pipefail

# libnet-ssleay-perl: swaks only "recommends" it, and without it (we install without
# recommends) "swaks --tls" fails with "TLS not available: requires Net::SSLeay".
PACKAGES=(postfix dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd swaks libnet-ssleay-perl openssl)
VMAIL_USER="${MAIL_VMAIL_USER:-vmail}"

log() { printf 'install-mail-servers: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (it installs Debian packages and creates a system user)"
    exit 1
fi

# A package counts as installed only in state "install ok installed"; a half-configured
# package (e.g. an interrupted earlier run) is reinstalled.
missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ $status != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} > 0)); then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive

    # Without this preseed the postfix package asks which "mail configuration" to use.
    # "No configuration" also leaves /etc/postfix/main.cf absent, so no system-wide
    # Postfix is configured by accident (mail-servers.sh copes with that).
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

    # policy-rc.d exiting 101 tells invoke-rc.d not to start the packages' daemons:
    # the system-wide Postfix/Dovecot must not run (they would take ports 25/143/110
    # and are not what the tests talk to). Some images (Docker) already ship a
    # policy-rc.d: it is moved aside and put back afterwards, never deleted.
    policy=/usr/sbin/policy-rc.d
    policy_backup=""
    if [[ -e $policy || -L $policy ]]; then
        policy_backup=$(mktemp /usr/sbin/policy-rc.d.mail-servers-backup.XXXXXX)
        mv -f "$policy" "$policy_backup"
    fi
    restore_policy() {
        rm -f "$policy"
        if [[ -n $policy_backup ]]; then
            mv -f "$policy_backup" "$policy"
        fi
    }
    trap restore_policy EXIT
    printf '#!/bin/sh\n# temporary, from install-mail-servers.sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"

    # apt-get update only now that something is missing: package lists may be absent
    # (fresh image) or stale (their versions no longer on the mirror -> 404 on download).
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"

    restore_policy
    trap - EXIT
else
    log "packages already installed"
fi

# Dovecot refuses to run mail processes as root, so the maildirs belong to a system user.
if ! getent passwd "$VMAIL_USER" >/dev/null; then
    log "creating system user $VMAIL_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "mail test files" "$VMAIL_USER"
fi

log "done"
