#include "pg/replica_identity.h"

#include <gtest/gtest.h>

namespace pg2ch::pg {
namespace {

std::optional<Error> reason(ReplicaIdentityFacts f) { return unpublishable_reason(f, "public.t", "\"public\".\"t\""); }

TEST(ReplicaIdentity, UsableIdentitiesPublish) {
  EXPECT_FALSE(reason({.relreplident = 'd', .has_primary_key = true, .identity_index_usable = true}));
  EXPECT_FALSE(reason({.relreplident = 'i', .has_primary_key = false, .identity_index_usable = true}));
  // FULL needs no index at all (pg2ch still wants a key, which describe_table checks).
  EXPECT_FALSE(reason({.relreplident = 'f'}));
}

TEST(ReplicaIdentity, EachUnusableIdentityNamesItsCauseAndTheFixes) {
  struct Case {
    ReplicaIdentityFacts facts;
    std::string cause;
  };
  for (const auto& c : {Case{{.relreplident = 'n', .has_primary_key = true}, "REPLICA IDENTITY NOTHING"},
                        Case{{.relreplident = 'i', .has_primary_key = true}, "that index no longer exists"},
                        Case{{.relreplident = 'd', .has_primary_key = true, .primary_key_deferrable = true},
                             "DEFERRABLE primary key"},
                        Case{{.relreplident = 'd'}, "no primary key"}}) {
    const auto e = reason(c.facts);
    ASSERT_TRUE(e) << c.cause;
    EXPECT_EQ(e->kind(), ErrorKind::Schema);
    const std::string what = e->what();
    EXPECT_NE(what.find("public.t"), std::string::npos) << what;
    EXPECT_NE(what.find(c.cause), std::string::npos) << what;
    EXPECT_NE(what.find("UPDATE and DELETE"), std::string::npos) << what;
    for (const char* fix : {"REPLICA IDENTITY DEFAULT", "REPLICA IDENTITY USING INDEX", "REPLICA IDENTITY FULL"}) {
      EXPECT_NE(e->hint().find(std::string("ALTER TABLE \"public\".\"t\" ") + fix), std::string::npos) << e->hint();
    }
  }
}

}  // namespace
}  // namespace pg2ch::pg
