#include "router.h"

#include <Poco/URI.h>

#include <stdexcept>

namespace switchboard::api {

namespace {

bool isParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

} // namespace

std::vector<std::string_view> Router::split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  while (true) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return segments;
}

void Router::add(std::string method, std::string pattern, Access access, BodyKind body,
                 Endpoint endpoint, bool replayable) {
  if (!pattern.starts_with('/')) {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  for (const auto& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      throw std::invalid_argument("route added twice: " + method + " " + pattern);
    }
  }
  Route route;
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.access = access;
  route.body = body;
  route.endpoint = std::move(endpoint);
  route.replayable = replayable;
  route.index = routes_.size();
  for (auto segment : split(route.pattern)) {
    route.segments.emplace_back(segment);
  }
  routes_.push_back(std::move(route));
}

namespace {

// Every '%' starts an escape of two hex digits: what Poco::URI::decode reads without throwing.
bool wellEscaped(std::string_view segment) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  for (std::size_t at = segment.find('%'); at != std::string_view::npos;
       at = segment.find('%', at + 1)) {
    if (at + 2 >= segment.size() || !hex(segment[at + 1]) || !hex(segment[at + 2])) {
      return false;
    }
  }
  return true;
}

} // namespace

bool Router::matches(const Route& route, const std::vector<std::string_view>& segments,
                     PathParams* params) {
  if (route.segments.size() != segments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& expected = route.segments[i];
    if (isParameter(expected)) {
      if (segments[i].empty() || !wellEscaped(segments[i])) {
        return false;
      }
    } else if (expected != segments[i]) {
      return false;
    }
  }
  if (params != nullptr) {
    params->clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const auto& expected = route.segments[i];
      if (isParameter(expected)) {
        std::string value;
        Poco::URI::decode(std::string(segments[i]), value);
        params->emplace_back(expected.substr(1, expected.size() - 2), std::move(value));
      }
    }
  }
  return true;
}

void Router::defer(std::string_view method, std::string_view pattern, DeferredEndpoint endpoint) {
  for (Route& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      route.deferred = std::move(endpoint);
      return;
    }
  }
  throw std::invalid_argument("no route " + std::string(method) + " " + std::string(pattern) +
                              " to defer");
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  auto segments = split(path);
  for (const auto& route : routes_) {
    if (!matches(route, segments, nullptr)) {
      continue;
    }
    if (route.method == method) {
      result.outcome = RouteMatch::Outcome::Found;
      result.route = &route;
      matches(route, segments, &result.params);
      return result;
    }
    if (result.allowed.find(route.method) == std::string::npos) {
      if (!result.allowed.empty()) {
        result.allowed += ", ";
      }
      result.allowed += route.method;
    }
  }
  if (!result.allowed.empty()) {
    result.outcome = RouteMatch::Outcome::WrongMethod;
  }
  return result;
}

} // namespace switchboard::api
