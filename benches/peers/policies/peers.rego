# The three per-recipient checks compared in benches/peers (see README.md).
#
# input: {"attributes": {NAME: VALUE, ...},
#         "consents": {PURPOSE: {"withdrawn": BOOL}, ...},
#         "email_sends_7d": N}
# data.campaign.purposes: the campaign's purposes.
package peers

import rego.v1

sensitive := {
	"health", "religion", "ethnicity", "racial_or_ethnic_origin", "sexual_orientation",
	"sex_life", "political_opinions", "philosophical_beliefs", "trade_union_membership",
	"genetic_data", "biometric_data", "criminal_record",
}

default allow := false

allow if {
	not targets_sensitive
	every purpose in data.campaign.purposes {
		# Not `input.consents[purpose].withdrawn == false`: regorus 0.14.1's
		# bytecode VM lets that `every` pass when a purpose is missing or
		# withdrawn (its interpreter does not); object.get agrees in both.
		object.get(input.consents, [purpose, "withdrawn"], true) == false
	}
	input.email_sends_7d < 3
}

targets_sensitive if {
	some name, _ in input.attributes
	name in sensitive
}
