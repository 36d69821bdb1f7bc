'use strict';
// The seed article's sample ("Automate Outbound SMS with Platform API"), kept as the article
// writes it: the same calls, bodies and promise chain. The only additions are the function
// wrapper that hands it its free variables (`client`, `apiInstance`, the ids, `alert`) and
// two line breaks that keep lines within 100 characters.
// Like the article, the chain is not returned: completion is signalled through `alert`, and
// a failed call surfaces as an unhandled rejection (the runner in harness.js catches both).

function articleSample(client, apiInstance, client_id, redirect_uri, queue_id, phone_number,
  message, alert) {
  client.loginImplicitGrant(client_id, redirect_uri)
  .then(() => {

    let body = {
    "queueId": queue_id,
    "toAddress": phone_number,
    "toAddressMessengerType": "sms",
    "useExistingConversation": true
    };
  return apiInstance.postConversationsMessages(body)//create interaction
  })
  .then((data) => {
    let conversationId = data.id;
    let communicationId = "";
    apiInstance.getConversation(conversationId)//get conversation data
      .then((data) => {
      communicationId = data.participants.find( participant => participant.purpose === 'agent' )
        .messages[0].id;
      let body = {
      "textBody": message
      };
    return apiInstance.postConversationsMessageCommunicationMessages(conversationId,
      communicationId, body)//send message
    })
    .then((data) => {
      alert("message successfully sent to: "+ data.toAddress);
    });
  })
}

module.exports = { articleSample };
