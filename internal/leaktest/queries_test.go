package leaktest_test

import (
	"strings"
)

// --- The queries ---

var fragments = map[string]string{
	"LkVictim":  `fragment LkVictim on Victim { __typename id pseudonym legalName dateOfBirth personalNumber nationality exactAge phone address healthNotes testimonySummary shelterLocation }`,
	"LkSuspect": `fragment LkSuspect on Suspect { __typename id pseudonym legalName personalNumber }`,
	"LkService": `fragment LkService on SupportService { __typename id kind notes }`,
	"LkNode": `fragment LkNode on Node { __typename id
  ... on Victim { ...LkVictim a: legalName }
  ... on Suspect { ...LkSuspect case { __typename id } }
  ... on SupportService { ...LkService victim { __typename id legalName healthNotes } }
  ... on Consent { givenBy victim { __typename id exactAge } }
}`,
}

// withFragments appends the fragments an operation uses (and only those: GraphQL
// refuses unused fragments).
func withFragments(op string) string {
	doc := op
	for changed := true; changed; {
		changed = false
		for name, frag := range fragments {
			if strings.Contains(doc, "..."+name) && !strings.Contains(doc, "fragment "+name+" ") {
				doc += "\n" + frag
				changed = true
			}
		}
	}
	return doc
}

const pageInfoFields = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`

var (
	victimsForward = withFragments(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, orderBy: [{field: PSEUDONYM, direction: ASC}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      ...LkVictim
      a: legalName
      b: legalName
      ... on Victim { legalName pn: personalNumber secret: healthNotes }
      consents(first: 3) { edges { node { __typename id givenBy } } }
    } }
  }
}`)
	victimsBackward = withFragments(`query ($n: Int, $cursor: Cursor) {
  victims(last: $n, before: $cursor, orderBy: [{field: IDENTIFIED_AT, direction: DESC}, {field: PSEUDONYM}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node { ... on Node { __typename id } ... on Victim { x: legalName healthNotes } } }
  }
}`)
	victimsMinorFemale = withFragments(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, where: {ageGroup: MINOR, sexIn: [FEMALE]}, orderBy: [{field: REGION, direction: DESC}, {field: PSEUDONYM}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node { __typename id pseudonym legalName phone shelterLocation } }
  }
}`)
	victimsForeignOrOfficial = withFragments(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, where: {or: [{foreignNational: true}, {identificationStatus: OFFICIAL_VICTIM}]}, orderBy: [{field: IDENTIFIED_BY}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node { ...LkVictim } }
  }
}`)
	casesNested = withFragments(`query ($n: Int, $cursor: Cursor) {
  cases(first: $n, after: $cursor, orderBy: [{field: OPENED_AT, direction: DESC}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      __typename id reference title
      victims(first: 5) { totalCount edges { node {
        ...LkVictim
        cases(first: 3) { totalCount edges { node {
          __typename id reference
          victims(first: 5) { totalCount edges { node { ...LkVictim } } }
        } } }
      } } }
      suspects(first: 5) { totalCount edges { node { ...LkSuspect } } }
      prosecutions(first: 3) { totalCount edges { node { __typename id registrationNumber defendants { ...LkSuspect }
        defendantsConnection(first: 5, orderBy: [{field: PSEUDONYM}]) { totalCount edges { node { ...LkSuspect } } } } } }
      referrals(first: 3) { totalCount edges { node { __typename id status victim { __typename id a: legalName } } } }
      events(first: 5) { totalCount edges { node { summary subjectID } } }
    } }
  }
}`)
	casesFlat = withFragments(`query ($n: Int, $cursor: Cursor) {
  cases(first: $n, after: $cursor, orderBy: [{field: REFERENCE}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      __typename id reference
      victims(first: 3) { edges { node { __typename id legalName } } }
      suspects(first: 3) { edges { node { __typename id legalName } } }
    } }
  }
}`)
	prosecutionsFlat = withFragments(`query ($n: Int, $cursor: Cursor) {
  prosecutions(first: $n, after: $cursor) {
    totalCount ` + pageInfoFields + `
    edges { cursor node { __typename id case { __typename id } defendants { __typename id caseID legalName }
      defendantsConnection { totalCount edges { cursor node { __typename id caseID legalName personalNumber } } } } }
  }
}`)
	referralsFlat = withFragments(`query ($n: Int, $cursor: Cursor) {
  referrals(first: $n, after: $cursor, orderBy: [{field: STATUS}, {field: REFERRED_AT, direction: DESC}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node { __typename id status victim { __typename id legalName } } }
  }
}`)
	casesFiltered = withFragments(`query ($n: Int, $cursor: Cursor) {
  cases(first: $n, after: $cursor, where: {regionIn: [TIRANE, VLORE], closedAtIsNil: true}, orderBy: [{field: STAGE}, {field: REFERENCE, direction: DESC}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      __typename id stage
      victims(first: 5) { totalCount edges { node { __typename id ageGroup legalName address } } }
      referrals(first: 3) { totalCount edges { node { __typename id victim { __typename id phone } } } }
    } }
  }
}`)
	suspectsQuery = withFragments(`query ($n: Int, $cursor: Cursor) {
  suspects(first: $n, after: $cursor, orderBy: [{field: PSEUDONYM}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      ...LkSuspect
      a: legalName
      case { __typename id reference }
      prosecutions { __typename id case { __typename id } }
      prosecutionsConnection(first: 5, orderBy: [{field: REGISTERED_AT}]) { totalCount edges { cursor node { __typename id case { __typename id }
        defendantsConnection(first: 3) { totalCount edges { node { __typename id caseID legalName personalNumber } } } } } }
    } }
  }
}`)
	prosecutionsQuery = withFragments(`query ($n: Int, $cursor: Cursor) {
  prosecutions(first: $n, after: $cursor, orderBy: [{field: REGISTERED_AT, direction: DESC}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      __typename id registrationNumber
      case {
        __typename id reference
        suspects(first: 5) { totalCount edges { node { ...LkSuspect } } }
        victims(first: 5) { totalCount edges { node { ...LkVictim } } }
      }
      defendants { ...LkSuspect b: legalName }
    } }
  }
}`)
	referralsQuery = withFragments(`query ($n: Int, $cursor: Cursor) {
  referrals(first: $n, after: $cursor, orderBy: [{field: REFERRED_AT}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      __typename id status
      victim {
        ...LkVictim
        referrals(first: 3) { totalCount edges { node { __typename id victim { __typename id legalName healthNotes shelterLocation } } } }
        services(first: 3) { totalCount edges { node { ...LkService } } }
      }
    } }
  }
}`)
	victimServices = withFragments(`query ($n: Int, $cursor: Cursor) {
  victims(first: $n, after: $cursor, where: {identificationStatusIn: [OFFICIAL_VICTIM, POTENTIAL_VICTIM], not: {region: TIRANE}}, orderBy: [{field: PSEUDONYM}]) {
    totalCount ` + pageInfoFields + `
    edges { cursor node {
      ...LkVictim
      services(first: 10) { totalCount edges { node { ...LkService n2: notes victim { __typename id legalName phone } } } }
      referrals(first: 10) { totalCount edges { node { __typename id victim { __typename id legalName } } } }
    } }
  }
}`)
	agenciesQuery = withFragments(`query {
  viewer { agency { __typename id code ledCases(first: 3) { totalCount edges { node { __typename id victims(first: 3) { totalCount edges { node { ...LkVictim } } } } } } } }
  agencies(first: 100, orderBy: [{field: CODE}]) {
    totalCount
    edges { node {
      __typename id code
      cases(first: 3) { totalCount edges { node {
        __typename id
        victims(first: 3) { totalCount edges { node { ...LkVictim consents(first: 2) { edges { node { __typename id victim { __typename id legalName } } } } } } }
        suspects(first: 3) { totalCount edges { node { ...LkSuspect } } }
      } } }
      ledCases(first: 2) { totalCount edges { node { __typename id suspects(first: 2) { totalCount edges { node { __typename id x: legalName } } } } } }
      assignments(first: 2) { edges { node { case { __typename id victims(first: 2) { totalCount edges { node { __typename id phone address } } } } } } }
    } }
  }
}`)
	otherNodes = withFragments(`query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on Case { victims(first: 3) { totalCount edges { node { __typename id legalName healthNotes } } } suspects(first: 2) { totalCount edges { node { __typename id caseID legalName } } } }
  ... on Prosecution { case { __typename id } defendants { __typename id caseID personalNumber } }
  ... on Referral { victim { __typename id legalName phone testimonySummary } }
  ... on Consent { givenBy victim { __typename id legalName address shelterLocation services(first: 2) { totalCount edges { node { __typename id victim { __typename id } notes } } } } }
} }`)
	grantsQuery = `query ($n: Int, $cursor: Cursor) {
  emergencyGrants(first: $n, after: $cursor) {
    totalCount ` + pageInfoFields + `
    edges { cursor node { __typename id caseID caseReference subject justification } }
  }
}`
	victimsGET = withFragments(`query { victims(first: 100, orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount edges { node { ...LkVictim } } } }`)
	nodeLight  = `{ __typename id ... on Victim { legalName healthNotes } ... on Suspect { legalName } ... on SupportService { notes } ... on Consent { givenBy } }`
	nodeQuery  = withFragments(`query ($id: ID!) { node(id: $id) { ...LkNode } }`)
	nodesQuery = withFragments(`query ($ids: [ID!]!) { nodes(ids: $ids) { ...LkNode } }`)
)

// page walks a top-level connection forwards (first/after) or backwards
// (last/before), at most maxPages pages; it returns the ids in list order,
// the totalCount and whether it reached the end.
