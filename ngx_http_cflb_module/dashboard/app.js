/*
 * cflb dashboard: fetches the status document from this same location
 * (?format=json) every few seconds and renders it.  No dependencies and
 * no other network access; every name from the document goes into the
 * page as text, never as markup.
 */

(function () {
    'use strict';

    var params = new URLSearchParams(location.search);
    var refresh = Math.min(Math.max(parseInt(params.get('refresh'), 10) || 2,
                                    1), 300);

    /* requests per "subsystem/pool[/endpoint]" at the previous refresh */
    var prev = null;
    var lastOk = null;

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) {
            e.className = cls;
        }
        if (text !== undefined && text !== null) {
            e.textContent = String(text);
        }
        return e;
    }

    function add(parent) {
        for (var i = 1; i < arguments.length; i++) {
            if (arguments[i] !== null && arguments[i] !== undefined) {
                parent.appendChild(arguments[i]);
            }
        }
        return parent;
    }

    function num(v) {
        return (typeof v === 'number') ? v : null;
    }

    function bytes(n) {
        var u = ['B', 'kB', 'MB', 'GB', 'TB'], i = 0;
        while (n >= 1000 && i < u.length - 1) {
            n /= 1000;
            i++;
        }
        return (i ? n.toFixed(1) : n) + ' ' + u[i];
    }

    function clock(d) {
        return d.toLocaleTimeString([], {hour12: false});
    }

    function duration(s) {
        s = Math.max(0, Math.ceil(s));
        var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
        var mm = (h ? String(m).padStart(2, '0') : m) + ':';
        return (h ? h + ':' : '') + mm + String(s % 60).padStart(2, '0');
    }

    /* an endpoint's health as a class name: its word, or unmonitored */
    function epHealth(pool, ep) {
        if (!pool.monitor) {
            return 'unmonitored';
        }
        return ep.health || 'unknown';
    }

    function dot(health, label) {
        var d = el('span', 'dot health-' + health);
        d.setAttribute('aria-hidden', 'true');
        return add(el('span', 'health'), d, document.createTextNode(label));
    }

    /*
     * Each endpoint's share of its pool's requests: since the previous
     * refresh when the pool had traffic since, else since the counters
     * started (also on the first load).
     */
    function shares(key, pool) {
        var eps = pool.endpoints || [], out = [], d = 0, recent = false;

        if (prev && prev[key] !== undefined && pool.requests > prev[key]) {
            d = pool.requests - prev[key];
            recent = true;
        }

        eps.forEach(function (ep) {
            var r = ep.requests || 0, p = prev && prev[key + '/' + ep.name];
            var s = null;

            if (recent && p !== undefined && r >= p) {
                s = (r - p) / d;
            } else if (!recent && pool.requests > 0) {
                s = r / pool.requests;
            }

            out.push(s === null ? null : Math.min(Math.max(s, 0), 1));
        });

        return {values: out, recent: recent};
    }

    function shareCell(s, recent) {
        var td = el('td', 'share-cell');
        if (s === null) {
            td.textContent = '–';
            return td;
        }

        var pct = (100 * s).toFixed(1) + ' %';
        var bar = el('span', 'bar'), fill = el('span');
        fill.style.width = (100 * s).toFixed(1) + '%';
        bar.setAttribute('aria-hidden', 'true');
        add(bar, fill);

        var box = add(el('span', 'share'), bar, el('span', 'pct', pct));
        box.setAttribute('data-share', s.toFixed(4));
        box.title = recent ? 'since the previous refresh'
                           : 'since the counters started';
        return add(td, box);
    }

    function rtt(v) {
        return num(v) === null ? '–' : v.toFixed(v < 10 ? 2 : 1) + ' ms';
    }

    /* weights as configured: 0.00 to 1.00 */
    function weight(v) {
        return num(v) === null ? '–' : v.toFixed(2);
    }

    /* the drain cell; the countdown ticks from the time of the fetch */
    function drainCell(ep) {
        var td = el('td');

        if (ep.drain && num(ep.drain.remaining) !== null) {
            var s = el('span', 'drain');
            s.setAttribute('data-remaining', String(ep.drain.remaining));
            s.setAttribute('data-at', String(Date.now()));
            tick(s);
            add(td, s);

        } else if (ep.enabled === false) {
            add(td, el('span', 'muted', 'disabled'));
        }

        return td;
    }

    function tick(s) {
        var left = Number(s.getAttribute('data-remaining'))
                   - (Date.now() - Number(s.getAttribute('data-at'))) / 1000;

        if (left <= 0) {
            s.className = 'drain done';
            s.textContent = 'drained';
        } else {
            s.textContent = 'drains in ' + duration(left);
        }
    }

    function counts(o) {
        var text = String(o.requests || 0);
        if (num(o.bytes_sent) !== null || num(o.bytes_received) !== null) {
            text += ' · ' + bytes(o.bytes_sent || 0) + ' out, '
                    + bytes(o.bytes_received || 0) + ' in';
        }
        return text;
    }

    function fails(o) {
        var text = String(o.fails || 0);
        if (num(o.failovers) !== null) {
            text += ' (' + o.failovers + ' failover'
                    + (o.failovers === 1 ? ')' : 's)');
        }
        return text;
    }

    function outstanding(o) {
        var v = num(o.outstanding);
        if (v === null) {
            v = num(o.sessions);
        }
        return v === null ? (o.active || 0) : v;
    }

    function endpointRow(pool, ep, share, recent) {
        var h = epHealth(pool, ep), tr = el('tr', 'endpoint health-' + h);
        var label = h;

        if (ep.enabled === false) {
            tr.className += ' disabled';
            label += ', disabled';
        }

        tr.setAttribute('data-pool', pool.name);
        tr.setAttribute('data-endpoint', ep.name);

        var name = add(el('td', 'endpoint'), el('span', 'name', ep.name),
                       el('div', 'muted', ep.address));

        add(tr, name, add(el('td'), dot(h, label)),
            el('td', 'reason', pool.monitor ? ep.reason : ''),
            el('td', 'num', weight(ep.weight)),
            el('td', null, ep.enabled === false ? 'no' : 'yes'),
            shareCell(share, recent),
            el('td', 'num', rtt(ep.rtt_ms)),
            el('td', 'num', outstanding(ep)),
            el('td', 'num', counts(ep)),
            el('td', 'num', fails(ep)),
            drainCell(ep));
        return tr;
    }

    function poolHead(pool) {
        var h = pool.health || 'unknown', tr = el('tr', 'pool health-' + h);
        var th = el('th');

        if (pool.enabled === false) {
            tr.className += ' disabled';
        }

        th.colSpan = 11;
        th.scope = 'rowgroup';
        tr.setAttribute('data-pool', pool.name);

        var detail = [pool.enabled === false ? 'disabled' : 'enabled',
                      'steering ' + pool.endpoint_steering,
                      'monitor ' + (pool.monitor || 'none'),
                      'minimum origins ' + pool.minimum_origins,
                      'RTT ' + rtt(pool.rtt_ms),
                      'outstanding ' + outstanding(pool),
                      'requests ' + counts(pool),
                      'fails ' + fails(pool)];

        add(th, el('span', 'name', pool.name), document.createTextNode(' '),
            el('span', 'badge health-' + h, h),
            el('span', 'detail', detail.join(' · ')));
        return add(tr, th);
    }

    function poolsTable(sub, pools, next) {
        var table = el('table', 'pools'), head = el('tr');

        ['Endpoint', 'Health', 'Reason', 'Weight', 'Enabled',
         'Traffic share', 'RTT', 'Outstanding', 'Requests', 'Fails',
         'Drain'].forEach(function (t) {
            var th = el('th', null, t);
            th.scope = 'col';
            add(head, th);
        });
        add(table, add(el('thead'), head));

        pools.forEach(function (pool) {
            var key = sub + '/' + pool.name, body = el('tbody');
            var sh = shares(key, pool);

            add(body, poolHead(pool));
            (pool.endpoints || []).forEach(function (ep, i) {
                add(body, endpointRow(pool, ep, sh.values[i], sh.recent));
                next[key + '/' + ep.name] = ep.requests || 0;
            });
            next[key] = pool.requests || 0;
            add(table, body);
        });

        return table;
    }

    function lbCard(lb, health) {
        var li = el('li', 'lb'), ol = el('ol');

        li.setAttribute('data-lb', lb.name);
        (lb.pools || []).forEach(function (p) {
            var h = health[p.name] || 'unknown';
            add(ol, add(el('li'), el('span', 'badge health-' + h, p.name),
                        el('span', 'muted', ' weight ' + weight(p.weight))));
        });

        return add(li, el('h3', null, lb.name),
                   el('div', 'muted', 'steering ' + lb.steering
                      + ' · fallback ' + (lb.fallback_pool || 'none')),
                   ol);
    }

    function section(sub, title, doc, next) {
        var s = el('section', 'subsystem'), health = {}, ul = el('ul', 'lbs');
        var pools = doc.pools || [];

        s.id = sub;
        pools.forEach(function (p) {
            health[p.name] = p.health || 'unknown';
        });
        (doc.lbs || []).forEach(function (lb) {
            add(ul, lbCard(lb, health));
        });

        return add(s, el('h2', null, title + ': load balancers'), ul,
                   el('h2', null, title + ': pools'),
                   poolsTable(sub, pools, next));
    }

    function render(doc) {
        var view = document.getElementById('view'), next = {};
        var parts = [section('http', 'HTTP', doc, next)];

        if (doc.stream) {
            parts.push(section('stream', 'Stream (TCP/UDP)', doc.stream,
                               next));
        }

        view.replaceChildren.apply(view, parts);
        prev = next;
    }

    function showError(msg) {
        var e = document.getElementById('error');
        e.textContent = 'Cannot fetch the status: ' + msg
            + (lastOk ? '; showing the data of ' + clock(lastOk) : '');
        e.hidden = false;
    }

    function load() {
        fetch('?format=json', {cache: 'no-store',
                               headers: {Accept: 'application/json'}})
            .then(function (r) {
                if (!r.ok) {
                    throw new Error('HTTP ' + r.status);
                }
                return r.json();
            })
            .then(function (doc) {
                render(doc);
                lastOk = doc.time ? new Date(doc.time * 1000) : new Date();
                document.getElementById('updated').textContent = clock(lastOk);
                document.getElementById('error').hidden = true;
            })
            .catch(function (err) {
                showError(err.message || String(err));
            })
            .then(function () {
                setTimeout(load, refresh * 1000);
            });
    }

    document.getElementById('interval').textContent = refresh;
    setInterval(function () {
        document.querySelectorAll('.drain:not(.done)').forEach(tick);
    }, 1000);
    load();
}());
