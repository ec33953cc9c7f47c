/**
 * What becomes of the Apache directives wsgi-host does not translate: 'ignored' (named once, with
 * the reason) when nothing the application sees changes, 'not-honoured' (named at each place) when
 * Apache would behave differently for some requests.
 */
export interface Disposition {
  kind: 'ignored' | 'not-honoured';
  reason: string;
}

interface Rule extends Disposition {
  names: readonly string[];
  prefix?: string;
}

const NO_ACCESS_CONTROL =
  'wsgi-host does no access control: restrict access in a front proxy or in the application.';

const RULES: readonly Rule[] = [
  { kind: 'ignored', names: ['errorlog', 'customlog', 'transferlog', 'loglevel', 'logformat', 'errorlogformat', 'bufferedlogs', 'globallog'],
    reason: 'wsgi-host has its own logging (log.error, log.access and log.level in its configuration).' },
  { kind: 'ignored', names: ['loadmodule', 'loadfile'], reason: 'wsgi-host loads no Apache modules; what mod_wsgi does is built in.' },
  { kind: 'ignored', names: [], prefix: 'ssl',
    reason: 'wsgi-host does not terminate TLS: put a TLS-terminating proxy or load balancer in front of it.' },
  { kind: 'ignored', names: [], prefix: 'rewrite', reason: 'wsgi-host does not rewrite URLs: do it in a front proxy or in the application.' },
  { kind: 'ignored', names: ['header', 'requestheader'], reason: 'wsgi-host does not add or edit headers: set them in the application or a front proxy.' },
  { kind: 'ignored',
    names: ['startservers', 'minspareservers', 'maxspareservers', 'minsparethreads', 'maxsparethreads', 'serverlimit', 'threadlimit',
      'threadsperchild', 'maxrequestworkers', 'maxclients', 'maxconnectionsperchild', 'maxrequestsperchild', 'threadstacksize',
      'asyncrequestworkerfactor', 'maxmemfree', 'listenbacklog', 'gracefulshutdowntimeout', 'mutex', 'pidfile', 'scoreboardfile',
      'coredumpdirectory', 'defaultruntimedir', 'enableexceptionhook', 'acceptfilter'],
    reason: "Apache's own processes do not exist in wsgi-host: one Node.js front end takes the connections and the Python processes are set by WSGIDaemonProcess." },
  { kind: 'ignored', names: ['user', 'group'],
    reason: "wsgi-host runs as the user that starts it; WSGIDaemonProcess user= and group= set its Python processes' user." },
  { kind: 'ignored', names: ['keepalive', 'maxkeepaliverequests'],
    reason: 'wsgi-host always keeps connections alive; KeepAliveTimeout (limits.keepAliveTimeout) sets for how long.' },
  { kind: 'ignored', names: ['requestreadtimeout', 'timeout'], reason: "limits.headerTimeout and limits.bodyTimeout are wsgi-host's equivalents: set them in its configuration." },
  { kind: 'ignored', names: ['limitrequestfields', 'limitrequestfieldsize', 'limitrequestline', 'limitxmlrequestbody'],
    reason: 'wsgi-host bounds the request line and headers together with limits.maxHeaderSize: set it in its configuration.' },
  { kind: 'ignored', names: ['documentroot'],
    reason: 'wsgi-host serves files only from Alias directories: add Alias / /path/to/root if the document root must be served.' },
  { kind: 'ignored',
    names: ['options', 'allowoverride', 'allowoverridelist', 'directoryindex', 'directoryslash', 'indexoptions', 'accessfilename', 'addtype',
      'addcharset', 'adddefaultcharset', 'addlanguage', 'addencoding', 'addoutputfilter', 'addoutputfilterbytype', 'typesconfig',
      'defaulttype', 'mimemagicfile', 'enablesendfile', 'enablemmap', 'forcetype', 'expiresactive', 'expiresbytype', 'expiresdefault',
      'fileetag', 'addhandler', 'sethandler', 'removehandler', 'setoutputfilter', 'setinputfilter'],
    reason: "it is Apache's handling of files; wsgi-host serves Alias directories as they are." },
  { kind: 'ignored', names: ['errordocument'], reason: 'wsgi-host sends short error pages of its own; the application makes its own pages.' },
  { kind: 'ignored',
    names: ['serveradmin', 'serversignature', 'servertokens', 'usecanonicalname', 'usecanonicalphysicalport', 'hostnamelookups',
      'namevirtualhost', 'traceenable'],
    reason: 'it has no equivalent in wsgi-host.' },
  { kind: 'ignored', names: ['require', 'order', 'allow', 'deny', 'satisfy'], reason: NO_ACCESS_CONTROL },
  { kind: 'not-honoured', names: [], prefix: 'auth',
    reason: 'wsgi-host does no authentication: protect the application in a front proxy or in the application itself (with WSGIPassAuthorization On it sees the Authorization header).' },
  { kind: 'not-honoured', names: ['redirect', 'redirectmatch', 'redirectpermanent', 'redirecttemp'],
    reason: 'wsgi-host does not redirect: do it in the application or in a front proxy.' },
  { kind: 'not-honoured', names: [], prefix: 'proxy', reason: 'wsgi-host is not a reverse proxy: keep a proxy in front for those URLs.' },
  { kind: 'not-honoured', names: ['scriptalias', 'scriptaliasmatch'], reason: 'wsgi-host does not run CGI scripts.' },
  { kind: 'not-honoured', names: ['aliasmatch'],
    reason: 'only prefix Alias lines become static directories: write one Alias per folder.' },
  { kind: 'not-honoured', names: ['setenvif', 'setenvifnocase', 'setenvifexpr', 'browsermatch', 'browsermatchnocase', 'unsetenv', 'passenv'],
    reason: 'only SetEnv values reach the WSGI environ in wsgi-host: use SetEnv NAME value, or read os.environ in the application.' },
];

const WSGI_RULES: readonly Rule[] = [
  { kind: 'ignored',
    names: ['wsgisocketprefix', 'wsgisocketrotation', 'wsgiacceptmutex', 'wsgilazyinitialization', 'wsgiverbosedebugging',
      'wsgidestroyinterpreter', 'wsgicasesensitivity', 'wsgirestrictprocess', 'wsgiservermetrics', 'wsgienablesendfile',
      'wsgiignoreactivity', 'wsgirestrictembedded', 'wsgichunkedrequest', 'wsgimapheadtoget', 'wsgierroroverride',
      'wsgipassapacherequest', 'wsgirestrictstdin', 'wsgirestrictstdout', 'wsgirestrictsignal', 'wsgitelemetryservice',
      'wsgitelemetryoptions', 'wsgislowrequests'],
    reason: "it tunes Apache's side of mod_wsgi, which wsgi-host replaces." },
  { kind: 'not-honoured',
    names: ['wsgidispatchscript', 'wsgihandlerscript', 'wsgiaccessscript', 'wsgiauthuserscript', 'wsgiauthgroupscript', 'wsgigroupauthoritative'],
    reason: 'wsgi-host runs only the WSGI application itself, without dispatch, access or authentication scripts: do that work in the application.' },
  { kind: 'not-honoured', names: ['wsgitrustedproxies', 'wsgitrustedproxyheaders'],
    reason: 'wsgi-host passes REMOTE_ADDR and the URL scheme as it receives them: correct them in the application (e.g. with a ProxyFix middleware).' },
  { kind: 'not-honoured', names: ['wsgiswitchinterval', 'wsgiperinterpretergil', 'wsgifreethreading', 'wsgiinterpreteroptions'],
    reason: 'wsgi-host runs each application group in processes of its own, with the interpreter as Python starts it.' },
];

/** What to say about a directive wsgi-host does not use. */
export function dispositionOf(key: string): Disposition {
  const rules = key.startsWith('wsgi') ? WSGI_RULES : RULES;
  const rule = rules.find((r) => r.names.includes(key) || (r.prefix !== undefined && key.startsWith(r.prefix)));
  if (rule !== undefined) return { kind: rule.kind, reason: rule.reason };
  if (key.startsWith('wsgi')) return { kind: 'not-honoured', reason: 'it is not a mod_wsgi directive wsgi-host knows: check its spelling, or remove it.' };
  return { kind: 'ignored', reason: 'wsgi-host does not use it.' };
}

/** Access-control lines quietly dropped inside <Directory>/<Location>/<Files>: they only open or close the door as a whole. */
export function isPlainAccessLine(key: string, args: string[]): boolean {
  const words = args.map((a) => a.toLowerCase());
  if (key === 'require') return words.length === 2 && words[0] === 'all';
  if (key === 'order' || key === 'satisfy') return true;
  if (key === 'allow' || key === 'deny') return words.join(' ') === 'from all';
  return false;
}

export const ACCESS_KEYS = new Set(['require', 'order', 'allow', 'deny', 'satisfy']);
export { NO_ACCESS_CONTROL };
