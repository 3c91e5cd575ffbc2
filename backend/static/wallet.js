// Apple Pay / Google Pay on the pay page, through Stripe's Payment Request Button (Stripe path
// only). The button appears only when Stripe.js has loaded and says this browser has a wallet;
// otherwise the page is the plain hosted-checkout form. The wallet's card only holds the amount
// (manual capture), as the hosted checkout does; the backend records the hold from Stripe's
// webhook, and this page then goes on to the link's status page.
(function () {
  "use strict";
  var box = document.getElementById("wallet");
  if (!box || typeof window.Stripe !== "function") {
    return;
  }
  var data = box.dataset;
  var stripe = window.Stripe(data.key);
  var request = stripe.paymentRequest({
    country: data.country,
    currency: data.currency,
    total: { label: data.label, amount: parseInt(data.amount, 10) },
  });
  request.canMakePayment().then(function (result) {
    if (!result) {
      return; // no Apple Pay or Google Pay here: the button stays hidden
    }
    stripe
      .elements()
      .create("paymentRequestButton", { paymentRequest: request })
      .mount("#wallet-button");
    box.hidden = false;
  });
  request.on("paymentmethod", function (event) {
    fetch(data.intent, { method: "POST", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("wallet intent: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        var secret = body.client_secret;
        return stripe
          .confirmCardPayment(secret, { payment_method: event.paymentMethod.id }, { handleActions: false })
          .then(function (result) {
            if (result.error) {
              event.complete("fail");
              return;
            }
            event.complete("success");
            if (result.paymentIntent && result.paymentIntent.status === "requires_action") {
              return stripe.confirmCardPayment(secret).then(function () {
                window.location.assign(data.done);
              });
            }
            window.location.assign(data.done);
          });
      })
      .catch(function () {
        event.complete("fail");
      });
  });
})();
