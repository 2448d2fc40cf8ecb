#include "llm_bridge/prompt.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace recarena;
using namespace recarena::llm_bridge;

namespace {
data::ItemCatalog Catalog() {
  data::ItemCatalog c;
  for (const char* id : {"10", "11", "12", "13"}) c.Intern(id);
  c.Normalize();
  c.titles = {"Metallica", "Megadeth", "", "Caf\xc3\xa9 del Mar"};
  c.categories = {{"metal", "thrash", "80s", "usa"}, {"thrash"}, {}, {"chill\nout"}};
  return c;
}
}  // namespace

TEST_CASE("prompt: Table 7.1 rendered from item texts", "[llm_bridge]") {
  PromptOptions o;
  o.template_text =
      "{scenario}|{item}|{behavior}|{attributes}|H: {history}|C:\n{candidates}|N={none_label}";
  o.max_categories = 2;
  PromptBuilder b(WithDatasetDefaults(o, "lastfm-2k"), Catalog());
  CHECK(b.ItemText(0) == "Metallica (metal; thrash)");
  CHECK(b.ItemText(2) == "12");                               // no title: the external id
  CHECK(b.ItemText(3) == "Caf\xc3\xa9 del Mar (chill out)");  // control characters -> spaces
  CHECK(b.ItemTitle(0) == "Metallica");
  CHECK(b.Render({0, 1}, {3, 2}) ==
        "music streaming|artist|listening|name; tags|H: Metallica (metal; thrash); Megadeth "
        "(thrash)|C:\na. Caf\xc3\xa9 del Mar (chill out)\nb. 12\nc. None|N=c");
  CHECK(b.Render({}, {1}).find("H: (none yet)") != std::string::npos);
  CHECK_THROWS_AS(b.Render({9}, {1}), Error);
  CHECK_THROWS_AS(b.Render({0}, {}), Error);
  CHECK_THROWS_AS(b.Render({0}, std::vector<int64_t>(26, 1)), Error);
}

TEST_CASE("prompt: the default template and history cut", "[llm_bridge]") {
  PromptOptions o;
  o.max_history = 2;
  PromptBuilder b(WithDatasetDefaults(o, "coat"), Catalog());
  const std::string p = b.Render({0, 1, 2}, {0, 1, 3});
  CHECK(p.find("You are a user in a online shopping platform now. The coat is in the form of "
               "gender; jacket type; colour.") != std::string::npos);
  CHECK(p.find("History: Megadeth (thrash); 12.") != std::string::npos);  // the last two
  CHECK(p.find("Metallica (metal") != std::string::npos);                 // as a candidate
  CHECK(p.find("\nd. None\n") != std::string::npos);
  CHECK(p.substr(p.size() - 20) == "the user will select");
}

TEST_CASE("prompt: UTF-8 safe cut and option errors", "[llm_bridge]") {
  PromptOptions o;
  o.max_item_chars = 10;
  o.max_categories = 0;
  PromptBuilder b(o, Catalog());
  CHECK(b.ItemText(3) == "Caf\xc3\xa9 del ...");  // 10 bytes, the 2-byte e-acute kept whole
  o.max_item_chars = 4;
  CHECK_THROWS_AS(o.Validate(), ConfigError);
  PromptOptions t;
  t.template_text = "{history} {candidates} {rating}";
  try {
    t.Validate("llm_online.prompt");
    FAIL("unknown placeholder accepted");
  } catch (const ConfigError& e) {
    CHECK(e.path() == "llm_online.prompt.template");
    CHECK(std::string(e.what()).find("{rating}") != std::string::npos);
  }
  // {user} is known: the user's external id.
  t.template_text = "User: {user}\n{history}\n{candidates}";
  t.Validate();
  PromptBuilder ub(t, Catalog());
  const std::string p = ub.Render({0}, {1, 2}, "u42");
  CHECK(p.rfind("User: u42\n", 0) == 0);
  t.template_text = "{history} only";
  CHECK_THROWS_AS(t.Validate(), ConfigError);
}
