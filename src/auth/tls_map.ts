// Client certificate → user mapping for TLS `verify_and_map`: reads the subject, e-mail, DNS and URI names
// of a DER certificate and compares distinguished names. Behaviour follows nats-server server/auth.go
// (checkClientTLSCertSubject, getTLSAuthDCs), Go's crypto/x509/pkix Name strings, and the RFC 4514 DN
// parsing and matching of nats-server internal/ldap/dn.go.

/** One attribute of a distinguished name. */
export interface DnAttribute {
  type: string;
  value: string;
}

/** A distinguished name: RDNs in RFC 4514 order (most specific first), each a set of attributes. */
export type Dn = DnAttribute[][];

/** The names a client certificate offers for mapping, in the order nats-server tries them. */
export interface CertIdentity {
  emails: string[];
  dnsNames: string[];
  uris: string[];
  /** The subject as Go's pkix Name.ToRDNSequence().String() prints it (no DC or e-mail attributes). */
  subject: string;
  /** The subject as Go's pkix Name.String() prints it (other attributes as OID=#hex at the end). */
  nameString: string;
  /** "DC=…" attributes of the subject in certificate order, comma-joined; "" when there are none. */
  domainComponents: string;
  /** The raw subject as a DN, or undefined when it has an attribute type the DN parser does not know. */
  dn: Dn | undefined;
}

// ---- DER reading -----------------------------------------------------------------------------------

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(b: Uint8Array, off: number): Tlv {
  if (off + 2 > b.length) throw new RangeError("truncated DER");
  const tag = b[off];
  let len = b[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) throw new RangeError("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i];
    p += n;
  }
  if (p + len > b.length) throw new RangeError("truncated DER");
  return { tag, start: p, end: p + len };
}

function children(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end;) {
    const c = readTlv(b, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidString(b: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if ((b[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** Decodes an ASN.1 string value; undefined for non-string types (Go then treats the value as non-string). */
function asn1String(b: Uint8Array, t: Tlv): string | undefined {
  const v = b.subarray(t.start, t.end);
  switch (t.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
      return utf8.decode(v);
    case 0x14: // T61String
      return latin1.decode(v);
    case 0x1e: { // BMPString (UTF-16BE)
      let s = "";
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i] << 8) | v[i + 1]);
      return s;
    }
    case 0x1c: { // UniversalString (UTF-32BE)
      let s = "";
      for (let i = 0; i + 3 < v.length; i += 4) {
        s += String.fromCodePoint(((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0);
      }
      return s;
    }
    default:
      return undefined;
  }
}

const OID_DC = "0.9.2342.19200300.100.1.25";
const OID_SAN = "2.5.29.17";

/** The type names Go's pkix prints (others never appear in ToRDNSequence()). */
const PKIX_NAMES: Record<string, string> = {
  "2.5.4.6": "C",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.3": "CN",
  "2.5.4.5": "SERIALNUMBER",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.17": "POSTALCODE",
};

/** The type names nats-server's DN parser knows: these plus DC. */
const LDAP_NAMES: Record<string, string> = { ...PKIX_NAMES, [OID_DC]: "DC" };

interface RawAttr {
  oid: string;
  value: string | undefined;
}

/** Reads the mapping names of a DER X.509 certificate; throws RangeError on malformed DER. */
export function parseCertIdentity(der: Uint8Array): CertIdentity {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  let fields = children(der, tbs);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // explicit version
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional parts.
  const subjectTlv = fields[4];
  const rdns: RawAttr[][] = children(der, subjectTlv).map((set) =>
    children(der, set).map((atv) => {
      const [oid, val] = children(der, atv);
      return { oid: oidString(der, oid), value: asn1String(der, val) };
    })
  );
  const id: CertIdentity = {
    emails: [],
    dnsNames: [],
    uris: [],
    subject: goSubjectString(rdns),
    nameString: goNameString(rdns),
    domainComponents: rdns.flat().filter((a) => a.oid === OID_DC && a.value !== undefined)
      .map((a) => `DC=${a.value}`).join(","),
    dn: rawSubjectDn(rdns),
  };
  const ext = fields.find((f) => f.tag === 0xa3);
  if (ext !== undefined) {
    const list = children(der, ext)[0];
    for (const e of children(der, list)) {
      const parts = children(der, e);
      if (oidString(der, parts[0]) !== OID_SAN) continue;
      const octets = parts[parts.length - 1];
      const names = readTlv(der, octets.start);
      for (const gn of children(der, names)) {
        const s = latin1.decode(der.subarray(gn.start, gn.end));
        if (gn.tag === 0x81) id.emails.push(s);
        else if (gn.tag === 0x82) id.dnsNames.push(s);
        else if (gn.tag === 0x86) id.uris.push(s);
      }
    }
  }
  return id;
}

/** Go's pkix: the parsed Name fields re-emitted in its fixed order, then printed last RDN first. */
function goSubjectString(rdns: RawAttr[][]): string {
  const multi = new Map<string, string[]>();
  let cn = "";
  let serial = "";
  for (const a of rdns.flat()) {
    if (a.value === undefined || !(a.oid in PKIX_NAMES)) continue;
    if (a.oid === "2.5.4.3") cn = a.value;
    else if (a.oid === "2.5.4.5") serial = a.value;
    else {
      const l = multi.get(a.oid) ?? [];
      l.push(a.value);
      multi.set(a.oid, l);
    }
  }
  const seq: [string, string[]][] = [];
  for (const oid of ["2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.9", "2.5.4.17", "2.5.4.10", "2.5.4.11"]) {
    const v = multi.get(oid);
    if (v !== undefined && v.length > 0) seq.push([oid, v]);
  }
  if (cn !== "") seq.push(["2.5.4.3", [cn]]);
  if (serial !== "") seq.push(["2.5.4.5", [serial]]);
  return seq.reverse().map(([oid, vals]) =>
    vals.map((v) => `${PKIX_NAMES[oid]}=${escapeDnValue(v)}`).join("+")
  )
    .join(",");
}

/**
 * Go's Name.String(): the fixed-order fields as goSubjectString prints them, then each attribute Go has
 * no field for (DC, e-mail, title, …), last first, as its dotted OID and "#" + the hex DER Go re-encodes
 * the decoded string to (PrintableString when every character allows it, else UTF8String).
 */
function goNameString(rdns: RawAttr[][]): string {
  const fielded = new Set([
    "2.5.4.3",
    "2.5.4.5",
    "2.5.4.6",
    "2.5.4.7",
    "2.5.4.8",
    "2.5.4.9",
    "2.5.4.10",
    "2.5.4.11",
    "2.5.4.17",
  ]);
  const extra = rdns.flat().filter((a) => !fielded.has(a.oid) && a.value !== undefined);
  const parts = extra.reverse().map((a) => `${a.oid}=#${hex(derString(a.value!))}`);
  const main = goSubjectString(rdns);
  return [...(main !== "" ? [main] : []), ...parts].join(",");
}

function derString(v: string): Uint8Array {
  const body = new TextEncoder().encode(v);
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v);
  const len = body.length;
  const head = len < 0x80
    ? [printable ? 0x13 : 0x0c, len]
    : len < 0x100
    ? [printable ? 0x13 : 0x0c, 0x81, len]
    : [printable ? 0x13 : 0x0c, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function escapeDnValue(v: string): string {
  const chars = [...v];
  let out = "";
  chars.forEach((c, k) => {
    let esc = false;
    if (',+"\\<>;'.includes(c)) esc = true;
    else if (c === " ") esc = k === 0 || k === chars.length - 1;
    else if (c === "#") esc = k === 0;
    out += esc ? "\\" + c : c;
  });
  return out;
}

function rawSubjectDn(rdns: RawAttr[][]): Dn | undefined {
  const dn: Dn = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    if (rdns[i].length === 0) continue;
    const rdn: DnAttribute[] = [];
    for (let j = rdns[i].length - 1; j >= 0; j--) {
      const a = rdns[i][j];
      const type = LDAP_NAMES[a.oid];
      if (type === undefined || a.value === undefined) return undefined;
      rdn.push({ type, value: a.value });
    }
    dn.push(rdn);
  }
  return dn;
}

// ---- DN strings ------------------------------------------------------------------------------------

/** Parses an RFC 4514 DN string as nats-server's DN parser does; undefined when it is not a DN. */
export function parseDn(str: string): Dn | undefined {
  const dn: Dn = [];
  let rdn: DnAttribute[] = [];
  let buf: number[] = [];
  let type = "";
  let escaping = false;
  let trailing = 0;
  const take = () => {
    const s = utf8.decode(new Uint8Array(buf.slice(0, buf.length - trailing)));
    buf = [];
    trailing = 0;
    return s;
  };
  const bytes = new TextEncoder().encode(str);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (escaping) {
      trailing = 0;
      escaping = false;
      if (' "#+,;<=>\\'.includes(String.fromCharCode(c))) {
        buf.push(c);
        continue;
      }
      if (i + 1 >= bytes.length) return undefined;
      const h = parseInt(String.fromCharCode(c, bytes[i + 1]), 16);
      if (Number.isNaN(h)) return undefined;
      buf.push(h);
      i++;
    } else if (c === 0x5c) {
      trailing = 0;
      escaping = true;
    } else if (c === 0x3d) {
      type = take();
      if (bytes[i + 1] === 0x23) return undefined; // BER-encoded values are not supported.
    } else if (c === 0x2c || c === 0x2b) {
      if (type === "") return undefined;
      rdn.push({ type, value: take() });
      type = "";
      if (c === 0x2c) {
        dn.push(rdn);
        rdn = [];
      }
    } else if (c === 0x20 && buf.length === 0) {
      continue;
    } else {
      trailing = c === 0x20 ? trailing + 1 : 0;
      buf.push(c);
    }
  }
  if (buf.length > 0) {
    if (type === "") return undefined;
    rdn.push({ type, value: take() });
    dn.push(rdn);
  }
  return dn;
}

function attrEqual(a: DnAttribute, b: DnAttribute): boolean {
  return a.type.toLowerCase() === b.type.toLowerCase() && a.value === b.value;
}

function rdnEqual(a: DnAttribute[], b: DnAttribute[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => attrEqual(x, y))) &&
    b.every((y) => a.some((x) => attrEqual(x, y)));
}

/** Same RDNs in the same order (RFC 4517 distinguishedNameMatch). */
export function dnEqual(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((r, i) => rdnEqual(r, b[i]));
}

/** Same RDNs in any order. */
export function dnRdnsMatch(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((r) => b.some((o) => rdnEqual(r, o)));
}
