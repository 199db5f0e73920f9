// The web hooks' HTTP client: cpprestsdk's http_client (DESIGN.md: outbound REST calls).

#include "webhook_dispatcher.h"

#include <cpprest/http_client.h>

namespace switchboard::webhooks {

Poster httpPoster() {
  return [](const Delivery& delivery) -> DeliveryResult {
    try {
      web::http::client::http_client_config config;
      config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(delivery.timeout));
      web::http::client::http_client client(delivery.url, config);
      web::http::http_request request(web::http::methods::POST);
      for (const auto& [name, value] : delivery.headers) {
        request.headers().add(name, value);
      }
      request.set_body(delivery.body, delivery.contentType);
      web::http::http_response response = client.request(request).get();
      web::http::status_code status = response.status_code();
      if (status >= 200 && status < 300) {
        return {true, {}};
      }
      return {false, "HTTP " + std::to_string(status)};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  };
}

} // namespace switchboard::webhooks
