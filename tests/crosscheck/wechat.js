'use strict';
// WeChat Pay API v3 through npm `wechatpay-axios-plugin` 0.9 (Rsa, Formatter, Aes.AesGcm and the
// Decorator's own request signer and response verifier).
// Requests (stdin JSON, or an array of them), one answer each on stdout:
//   {op:"check_authorization", public_key, method, uri, body, authorization}
//       -> {verified, message, fields}
//   {op:"sign_request", private_key, mchid, serial, method, url, data}
//       -> {authorization, body}  (the plugin's requestInterceptor; body = the signed payload)
//   {op:"sign_response", private_key, serial, body, timestamp?, nonce?} -> {headers}
//   {op:"verify_response", certs:{serial: pem}, url, headers, body} -> {ok, code, message}
//   {op:"encrypt", key, nonce, aad, plaintext} -> {ciphertext}
//   {op:"decrypt", key, nonce, aad, ciphertext} -> {ok, plaintext | error}
const { Rsa, Formatter, Aes, Decorator } = require('wechatpay-axios-plugin');
const { serve } = require('./lib');

function publicKey(pem) { return Rsa.from(pem, Rsa.KEY_TYPE_PUBLIC); }
function privateKey(pem) { return Rsa.from(pem, Rsa.KEY_TYPE_PRIVATE); }

serve((req) => {
  switch (req.op) {
    case 'check_authorization': {
      const m = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(req.authorization);
      if (!m) return { verified: false, error: 'scheme' };
      const fields = {};
      for (const part of m[1].split(',')) {
        const kv = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(part);
        if (!kv) return { verified: false, error: `bad field ${part}` };
        fields[kv[1]] = kv[2];
      }
      const message = Formatter.request(
        req.method, req.uri, fields.timestamp, fields.nonce_str, req.body,
      );
      const verified = Rsa.verify(message, fields.signature, publicKey(req.public_key));
      // The plugin's own header layout for the same values, for a field-by-field comparison.
      const rebuilt = Formatter.authorization(
        fields.mchid, fields.nonce_str, fields.signature, fields.timestamp, fields.serial_no,
      );
      return { verified, message, fields, rebuilt };
    }
    case 'sign_request': {
      const config = {
        method: req.method,
        url: req.url,
        baseURL: 'https://api.mch.weixin.qq.com/',
        headers: {},
        data: req.data,
        mchid: req.mchid,
        serial: req.serial,
        privateKey: privateKey(req.private_key),
      };
      const signed = Decorator.requestInterceptor()(config);
      return {
        authorization: signed.headers.get('Authorization'),
        // What the interceptor signed: JSON.stringify(data), or '' when there is no data.
        body: req.data === undefined ? '' : JSON.stringify(req.data),
      };
    }
    case 'sign_response': {
      const timestamp = String(req.timestamp || Formatter.timestamp());
      const nonce = req.nonce || Formatter.nonce();
      const signature = Rsa.sign(
        Formatter.response(timestamp, nonce, req.body), privateKey(req.private_key),
      );
      return {
        headers: {
          'Wechatpay-Timestamp': timestamp,
          'Wechatpay-Nonce': nonce,
          'Wechatpay-Signature': signature,
          'Wechatpay-Serial': req.serial,
        },
      };
    }
    case 'verify_response': {
      const certs = {};
      for (const [serial, pem] of Object.entries(req.certs)) certs[serial] = publicKey(pem);
      const verifier = Decorator.responseVerifier(certs);
      const out = verifier.call({ url: req.url }, req.body, req.headers, 200);
      if (out === req.body) return { ok: true };
      return { ok: false, code: out && out.code, message: out && out.message };
    }
    case 'encrypt':
      return {
        ciphertext: Aes.AesGcm.encrypt(req.plaintext, Buffer.from(req.key), req.nonce, req.aad),
      };
    case 'decrypt':
      try {
        return {
          ok: true,
          plaintext: Aes.AesGcm.decrypt(req.ciphertext, Buffer.from(req.key), req.nonce, req.aad),
        };
      } catch (e) {
        return { ok: false, error: String(e.message || e) };
      }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
});
