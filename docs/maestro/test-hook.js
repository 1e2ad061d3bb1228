// Maestro runScript helper: call one /internal/_test hook of `halo-sim serve` (or of any Halo
// backend with its test hooks), with the test token when one is set. See docs/emulator.md.
//
//   - runScript:
//       file: test-hook.js
//       env:
//         HALO_BASE_URL: http://127.0.0.1:8080       # Maestro runs scripts on this machine
//         HALO_TEST_TOKEN: ${HALO_TEST_TOKEN}        # needed when serve has --test-token
//         HOOK: force-confirm-payment
//         BODY: '{"payment_request_id": "${output.paymentId}"}'
//
// GET hooks (otp?phone=..., state, discovery): add METHOD: GET and put the query in HOOK.
// The parsed answer is in output.hook; an answer other than 2xx fails the flow with its error code.

var method = typeof METHOD !== 'undefined' ? METHOD : 'POST';
var headers = {'Content-Type': 'application/json'};
if (typeof HALO_TEST_TOKEN !== 'undefined' && HALO_TEST_TOKEN) {
  headers['x-test-token'] = HALO_TEST_TOKEN;
}
var url = HALO_BASE_URL + '/internal/_test/' + HOOK;
var response = method === 'GET'
  ? http.get(url, {headers: headers})
  : http.post(url, {headers: headers, body: typeof BODY !== 'undefined' ? BODY : '{}'});
if (response.status < 200 || response.status >= 300) {
  throw new Error('halo-sim ' + HOOK + ': HTTP ' + response.status + ' ' + response.body);
}
output.hook = json(response.body);
