#!/usr/bin/env python3
# Copied unchanged (apart from this note) from the workplace's shared/peers/gen_logs.py, so that
# noticed is measured on the same bytes as the peers' published figures.
"""Deterministic synthetic log generator (seeded) with embedded fake PII.
Usage: gen_logs.py N OUT
Mix (by weight): sshd auth (IPv4+username), nginx access (IPv4/IPv6, email in query),
app JSON-ish (email, card, token), dhcp (MAC+IPv4), plain no-PII lines.
All PII values are synthetic: documentation IP ranges, example.* domains,
well-known test card numbers, random hex tokens.
"""
import random, sys
N = int(sys.argv[1]); OUT = sys.argv[2]
r = random.Random(42)
users = ["alice","bob","carol","dave","erin","frank","grace","heidi","ivan","judy","mallory","oscar","peggy","trent","victor","walter","admin","root","oracle","test"]
domains = ["example.com","example.org","example.net","mail.example.com"]
cards = ["4111111111111111","5500000000000004","340000000000009","4012888888881881","5105105105105100","6011111111111117"]
paths = ["/","/index.html","/api/v1/users","/login","/static/app.js","/search","/api/v2/orders","/health"]
methods = ["GET","GET","GET","POST","PUT","DELETE"]
uas = ["Mozilla/5.0 (X11; Linux x86_64)","curl/7.88.1","Go-http-client/1.1","python-requests/2.31.0"]
months = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"]
def ip4():
    return r.choice(["192.0.2.","198.51.100.","203.0.113.","10.1.2.","172.16.5."]) + str(r.randint(1,254))
def ip6():
    return "2001:db8:%x:%x::%x" % (r.randint(0,0xffff), r.randint(0,0xffff), r.randint(1,0xffff))
def mac():
    return ":".join("%02x" % r.randint(0,255) for _ in range(6))
def email():
    return "%s.%s%d@%s" % (r.choice(users), r.choice(users), r.randint(1,99), r.choice(domains))
def tok(n):
    return "%0*x" % (n, r.getrandbits(4*n))
with open(OUT, "w") as f:
    for i in range(N):
        ts = "%s %2d %02d:%02d:%02d" % (months[i*12//N], 1+(i//1000)%28, (i//3600)%24, (i//60)%60, i%60)
        k = r.random()
        if k < 0.25:
            u = r.choice(users)
            if r.random() < 0.5:
                line = "%s host01 sshd[%d]: Failed password for invalid user %s from %s port %d ssh2" % (ts, r.randint(1000,65000), u, ip4(), r.randint(1024,65535))
            else:
                line = "%s host01 sshd[%d]: Accepted publickey for %s from %s port %d ssh2: RSA SHA256:%s" % (ts, r.randint(1000,65000), u, ip4(), r.randint(1024,65535), tok(16))
        elif k < 0.50:
            ip = ip6() if r.random() < 0.2 else ip4()
            line = '%s - - [%02d/%s/2024:%02d:%02d:%02d +0000] "%s %s?email=%s HTTP/1.1" %d %d "-" "%s"' % (ip, 1+(i//1000)%28, months[i*12//N], (i//3600)%24, (i//60)%60, i%60, r.choice(methods), r.choice(paths), email(), r.choice([200,200,200,301,404,500]), r.randint(100,50000), r.choice(uas))
        elif k < 0.70:
            line = '%s app[%d]: level=info msg="payment accepted" user=%s email=%s card=%s amount=%d.%02d token=Bearer %s' % (ts, r.randint(100,9999), r.choice(users), email(), r.choice(cards), r.randint(1,999), r.randint(0,99), tok(32))
        elif k < 0.80:
            line = "%s host01 dhclient[%d]: DHCPACK of %s from %s (xid=0x%s) hwaddr %s" % (ts, r.randint(100,9999), ip4(), ip4(), tok(8), mac())
        else:
            line = "%s host01 kernel: [%d.%06d] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null); seq=%d" % (ts, r.randint(1,99999), r.randint(0,999999), i)
        f.write(line + "\n")
