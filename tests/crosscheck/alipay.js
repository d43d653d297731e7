'use strict';
// Alipay OpenAPI RSA2 through the official Node SDK (npm `alipay-sdk` 4).
// Requests (stdin JSON, or an array of them), one answer each on stdout:
//   {op:"sign_request", private_key, key_type, app_id, method, biz_content, extra}
//       -> {params}: the SDK's sdkExecute() output, URL-decoded (biz_content is parsed and handed
//          over as an object: the SDK JSON-encodes a string biz_content a second time)
//   {op:"check_request", public_key, params}   -> {strict, lenient, content}
//   {op:"check_notify", public_key, params}    -> {strict_v1, lenient}
//   {op:"sign_notify", private_key, key_type, public_key, params, keep_sign_type} -> {params}
//   {op:"sign_response", private_key, key_type, response_key, content} -> {body}
//   {op:"check_response", public_key, response_key, body} -> {ok, error, content}
//   {op:"cert_sn", cert, root}   -> {cert_sn, root_cert_sn, public_key}: antcertutil.getSN /
//                                   loadPublicKey on PEM texts (certificate mode)
//   {op:"sign_request_cert", private_key, app_id, method, biz_content, app_cert, alipay_cert,
//    root_cert} -> {params}: sdkExecute() of an SDK configured in certificate mode
const { AlipaySdk } = require('alipay-sdk');
// util.js is not in the package's `exports`; load it by path (it holds the SDK's RSA2 signer).
const util = require(require('node:path').join(require.resolve('alipay-sdk'), '..', 'util.js'));
const { serve } = require('./lib');

// A throw-away PKCS#8 key for SDK instances that only verify (the constructor wants one).
let verifyOnlyKey;
function dummyKey() {
  if (!verifyOnlyKey) {
    const { generateKeyPairSync } = require('node:crypto');
    verifyOnlyKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
      .export({ type: 'pkcs8', format: 'pem' });
  }
  return verifyOnlyKey;
}

function sdkFor(req) {
  return new AlipaySdk({
    appId: req.app_id || '2021000000000000',
    privateKey: req.private_key || dummyKey(),
    keyType: req.private_key ? (req.key_type || 'PKCS1') : 'PKCS8',
    alipayPublicKey: req.public_key,
    signType: 'RSA2',
  });
}

function withoutKeys(params, drop) {
  const out = {};
  for (const k of Object.keys(params)) if (!drop.includes(k)) out[k] = params[k];
  return out;
}

serve((req) => {
  switch (req.op) {
    case 'sign_request': {
      const sdk = sdkFor(req);
      const biz = { ...(req.extra || {}), bizContent: JSON.parse(req.biz_content) };
      const qs = sdk.sdkExecute(req.method, biz, { bizContentAutoSnakeCase: false });
      const params = {};
      for (const pair of qs.split('&')) {
        const i = pair.indexOf('=');
        params[decodeURIComponent(pair.slice(0, i))] = decodeURIComponent(pair.slice(i + 1));
      }
      return { params };
    }
    case 'check_request': {
      const sdk = sdkFor(req);
      const args = withoutKeys(req.params, ['sign']);
      // notifyRSACheck is the SDK's own "sort, k=v, verify" over exactly the fields given; with
      // sign_type kept that is the request rule. checkNotifySignV2 also retries without it.
      return {
        strict: sdk.notifyRSACheck(args, req.params.sign, 'RSA2', true),
        lenient: sdk.checkNotifySignV2({ ...req.params }),
      };
    }
    case 'check_notify': {
      const sdk = sdkFor(req);
      const v1 = withoutKeys(req.params, ['sign', 'sign_type']);
      return {
        strict_v1: sdk.notifyRSACheck(v1, req.params.sign, 'RSA2', true),
        lenient: sdk.checkNotifySignV2({ ...req.params }),
      };
    }
    case 'sign_notify': {
      const sdk = sdkFor(req);
      const drop = req.keep_sign_type ? ['sign'] : ['sign', 'sign_type'];
      const args = withoutKeys(req.params, drop);
      // The SDK's verification content (notifyRSACheck, raw), signed with the SDK's RSA2 signer.
      const content = Object.keys(args).sort().map((k) => `${k}=${args[k]}`).join('&');
      const sign = util.signatureV3(content, sdk.config.privateKey);
      const params = { ...req.params, sign };
      const self = sdkFor({ public_key: req.public_key }).checkNotifySignV2({ ...params });
      if (!self) throw new Error('the SDK rejects its own notification');
      return { params, content };
    }
    case 'sign_response': {
      const sdk = sdkFor(req);
      const sign = util.signatureV3(req.content, sdk.config.privateKey);
      const body = `{"${req.response_key}":${req.content},"sign":${JSON.stringify(sign)}}`;
      return { body };
    }
    case 'check_response': {
      const sdk = sdkFor(req);
      const sign = JSON.parse(req.body).sign;
      let content = null;
      try {
        content = sdk.getSignStr(req.body, req.response_key);
        sdk.checkResponseSign(req.body, req.response_key, sign, 'crosscheck');
        return { ok: true, content };
      } catch (e) {
        return { ok: false, error: String(e.message || e), content };
      }
    }
    case 'cert_sn': {
      const antcert = require(require('node:path').join(require.resolve('alipay-sdk'), '..', 'antcertutil.js'));
      return {
        cert_sn: antcert.getSN(req.cert, false),
        root_cert_sn: antcert.getSN(req.root, true),
        public_key: antcert.loadPublicKey(req.cert),
      };
    }
    case 'sign_request_cert': {
      const sdk = new AlipaySdk({
        appId: req.app_id,
        privateKey: req.private_key,
        keyType: 'PKCS8',
        signType: 'RSA2',
        appCertContent: req.app_cert,
        alipayPublicCertContent: req.alipay_cert,
        alipayRootCertContent: req.root_cert,
      });
      const qs = sdk.sdkExecute(req.method, { bizContent: JSON.parse(req.biz_content) }, { bizContentAutoSnakeCase: false });
      const params = {};
      for (const pair of qs.split('&')) {
        const i = pair.indexOf('=');
        params[decodeURIComponent(pair.slice(0, i))] = decodeURIComponent(pair.slice(i + 1));
      }
      return { params };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
});
