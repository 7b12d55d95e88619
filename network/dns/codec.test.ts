import assert from 'node:assert/strict';
import {
  DnsFormatError,
  RCODE_FORMERR,
  RCODE_NXDOMAIN,
  TYPE_A,
  TYPE_PTR,
  aRecord,
  decodeMessage,
  encodeHeaderOnlyError,
  encodeName,
  encodeQuery,
  encodeResponse,
  ipFromReverse,
  ptrRecord,
  readA,
  reverseName,
} from './codec.js';

describe('network/dns/codec', () => {
  it('round-trips a query', () => {
    const m = decodeMessage(encodeQuery(0x1234, 'Web.Example.', TYPE_A));
    assert.equal(m.id, 0x1234);
    assert.ok(m.rd && !m.qr);
    assert.deepEqual(m.questions, [{ name: 'web.example', type: TYPE_A, cls: 1 }]);
  });

  it('builds answers that point back at the question name', () => {
    const q = decodeMessage(encodeQuery(7, 'web', TYPE_A));
    const resp = encodeResponse(q, 0, [aRecord('web', '10.0.0.2', 600), aRecord('web', '10.0.0.3', 600)], { aa: true });
    // header 12 + qname 5 + 4, then each answer: pointer 2 + 10 + 4
    assert.equal(resp.length, 12 + 5 + 4 + 2 * 16);
    assert.deepEqual([...resp.subarray(21, 23)], [0xc0, 12]);
    const m = decodeMessage(resp);
    assert.ok(m.qr);
    assert.equal(m.id, 7);
    assert.deepEqual(m.answers.map((a) => [a.name, a.ttl, readA(a.data)]), [['web', 600, '10.0.0.2'], ['web', 600, '10.0.0.3']]);
  });

  it('encodes PTR targets and reverse names', () => {
    assert.equal(reverseName('10.0.0.5'), '5.0.0.10.in-addr.arpa');
    assert.equal(ipFromReverse('5.0.0.10.IN-ADDR.ARPA.'), '10.0.0.5');
    assert.equal(ipFromReverse('example.com'), undefined);
    const q = decodeMessage(encodeQuery(1, reverseName('10.0.0.5'), TYPE_PTR));
    const m = decodeMessage(encodeResponse(q, 0, [ptrRecord(q.questions[0]!.name, 'web', 600)]));
    assert.deepEqual(m.answers[0]!.data, encodeName('web'));
  });

  it('echoes rcode and RD', () => {
    const q = decodeMessage(encodeQuery(9, 'x', TYPE_A, false));
    const m = decodeMessage(encodeResponse(q, RCODE_NXDOMAIN, []));
    assert.equal(m.rcode, RCODE_NXDOMAIN);
    assert.equal(m.rd, false);
  });

  it('rejects malformed messages without looping', () => {
    assert.throws(() => decodeMessage(Buffer.alloc(5)), DnsFormatError);
    const loop = Buffer.concat([encodeQuery(1, 'a', TYPE_A).subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    assert.throws(() => decodeMessage(loop), /compression pointers/);
    const cut = encodeQuery(1, 'abc', TYPE_A).subarray(0, 15);
    assert.throws(() => decodeMessage(cut), DnsFormatError);
    const err = encodeHeaderOnlyError(cut, RCODE_FORMERR)!;
    assert.equal(decodeMessage(err).rcode, RCODE_FORMERR);
    assert.equal(decodeMessage(err).id, 1);
  });

  it('refuses labels over 63 bytes', () => {
    assert.throws(() => encodeName('x'.repeat(64) + '.com'), DnsFormatError);
  });
});
