// The roster half of the ODBC connector: agents and skills read from the CRM and upserted
// through the Service when they changed.

#include "odbc_connector.h"

#include "column_names.h"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace switchboard::odbc {

std::size_t OdbcConnector::syncRoster() {
  Rows agents = rosterPool_.run(options_.agents, {});
  std::map<std::string, Agent> read;
  std::vector<std::string> order;
  for (const auto& row : agents.rows) {
    Agent agent;
    for (std::size_t c = 0; c < agents.columns.size() && c < row.size(); ++c) {
      if (!row[c]) {
        continue;
      }
      const std::string key = canonical(agents.columns[c]);
      const std::string& value = *row[c];
      if (key == "id" || key == "agentid") {
        agent.id = value;
      } else if (key == "name") {
        agent.name = value;
      } else if (key == "site") {
        agent.site = value;
      } else if (key == "seniority") {
        agent.seniority = std::atoi(value.c_str());
      } else if (key == "capacity") {
        // "voice:1 chat:3 email:5": what the agent may hold at once, per medium.
        std::istringstream parts(value);
        std::string part;
        while (parts >> part) {
          auto colon = part.find(':');
          if (colon != std::string::npos) {
            agent.capacity.push_back(
                {part.substr(0, colon), std::atoi(part.c_str() + colon + 1), std::nullopt});
          }
        }
      } else {
        agent.attributes.push_back({agents.columns[c], value});
      }
    }
    if (!agent.id.empty() && !read.contains(agent.id)) {
      order.push_back(agent.id);
      read[agent.id] = std::move(agent);
    }
  }
  if (!options_.skills.empty()) {
    Rows skills = rosterPool_.run(options_.skills, {});
    for (const auto& row : skills.rows) {
      std::string agentId;
      Skill skill;
      bool named = false;
      for (std::size_t c = 0; c < skills.columns.size() && c < row.size(); ++c) {
        if (!row[c]) {
          continue;
        }
        const std::string key = canonical(skills.columns[c]);
        if (key == "agentid" || key == "agent") {
          agentId = *row[c];
        } else if (key == "skill" || key == "name") {
          skill.name = *row[c];
          named = true;
        } else if (key == "level") {
          skill.level = std::clamp(std::atoi(row[c]->c_str()), 0, 10);
        }
      }
      auto agent = read.find(agentId);
      if (named && agent != read.end()) {
        agent->second.skills.push_back(skill);
      }
    }
  }

  std::size_t upserted = 0;
  for (const std::string& id : order) {
    Agent profile = read[id];
    {
      std::lock_guard lock(mutex_);
      auto last = roster_.find(id);
      if (last != roster_.end() && last->second == profile) {
        continue;
      }
    }
    // The CRM owns what it returns; what it does not return (capacity without a capacity column,
    // attributes it does not have) stays as the server knows it.
    Agent merged = profile;
    if (auto current = service_->agent(id); current.ok()) {
      if (merged.capacity.empty()) {
        merged.capacity = current->capacity;
      }
      if (!merged.name) {
        merged.name = current->name;
      }
      if (!merged.site) {
        merged.site = current->site;
      }
      if (!merged.seniority) {
        merged.seniority = current->seniority;
      }
      if (options_.skills.empty()) {
        merged.skills = current->skills;
      }
      for (const Attribute& attribute : current->attributes) {
        bool known = std::any_of(merged.attributes.begin(), merged.attributes.end(),
                                 [&](const Attribute& a) { return a.name == attribute.name; });
        if (!known) {
          merged.attributes.push_back(attribute);
        }
      }
      for (Capacity& capacity : merged.capacity) {
        capacity.active.reset();
      }
    }
    auto result = service_->upsertAgent(merged);
    if (!result.ok()) {
      rosterFailures_.fetch_add(1);
      std::cerr << "odbc " << options_.name << ": agent " << id
                << " from the CRM refused: " << result.error().detail << '\n';
      continue;
    }
    std::lock_guard lock(mutex_);
    roster_[id] = std::move(profile);
    ++upserted;
    rosterUpdates_.fetch_add(1);
  }
  return upserted;
}

void OdbcConnector::rosterLoop() {
  std::unique_lock lock(mutex_);
  while (running_) {
    wake_.wait_for(lock, options_.rosterInterval, [&] { return !running_; });
    if (!running_) {
      return;
    }
    lock.unlock();
    try {
      syncRoster();
    } catch (const std::exception&) {
      rosterFailures_.fetch_add(1);
    }
    lock.lock();
  }
}

} // namespace switchboard::odbc
