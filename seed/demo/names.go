package demo

import "github.com/casegraph/casegraph/domain"

// The word lists below make synthetic, plausibly Albanian values. They are
// common given names and surnames combined at random, generic street names
// and generic phrases; none of them describes a real person or event.

var femaleNames = []string{
	"Ana", "Anisa", "Ardita", "Arjola", "Besjana", "Blerina", "Brikena", "Dafina", "Denisa", "Dorina",
	"Elona", "Elsa", "Enkeleda", "Erisa", "Ermira", "Esmeralda", "Fjona", "Flutura", "Gentjana", "Greta",
	"Ilda", "Jonida", "Juliana", "Kejsi", "Klea", "Klaudia", "Lindita", "Lorela", "Luljeta", "Megi",
	"Mirela", "Nertila", "Orjana", "Rovena", "Sara", "Sidorela", "Teuta", "Vjollca", "Xhesika", "Zana",
}

var maleNames = []string{
	"Adrian", "Agron", "Albert", "Andi", "Arben", "Ardit", "Arlind", "Artan", "Besnik", "Bledar",
	"Dorian", "Dritan", "Eljon", "Elton", "Endri", "Erald", "Erion", "Ergys", "Fatjon", "Florian",
	"Gazmend", "Genci", "Gentian", "Jetmir", "Klajdi", "Klodian", "Kristi", "Luan", "Marsel", "Mario",
	"Olsi", "Orges", "Redon", "Renato", "Sokol", "Taulant", "Vilson", "Xhoni", "Ylli", "Enea",
}

var surnames = []string{
	"Hoxha", "Shehu", "Dervishi", "Kola", "Leka", "Gjoka", "Marku", "Prifti", "Çela", "Basha",
	"Gjini", "Brahimi", "Hysa", "Duka", "Muça", "Zeneli", "Kapllani", "Halili", "Lika", "Murati",
	"Bregu", "Dedja", "Gjeka", "Laçi", "Pepa", "Mema", "Tafa", "Qose", "Rexha", "Sula",
	"Tahiri", "Vata", "Xhafa", "Zaimi", "Bajrami", "Cani", "Dushku", "Hasani", "Isufi", "Kalemi",
	"Malaj", "Nika", "Osmani", "Pllumbi", "Shala", "Spahiu", "Toska", "Veliu", "Gjergji", "Mara",
}

// foreignOrigin is a foreign nationality with names to draw from.
type foreignOrigin struct {
	nationality           string
	female, male, surname []string
	// labour says whether the origin is drawn for labour exploitation
	// (true) or for the other forms (false).
	labour bool
	weight int
}

var foreignOrigins = []foreignOrigin{
	{"Kosovo", femaleNames, maleNames, []string{"Krasniqi", "Gashi", "Morina", "Bytyqi", "Hoti", "Kastrati"}, false, 35},
	{"North Macedonia", femaleNames, maleNames, []string{"Ademi", "Rexhepi", "Iseni", "Jashari", "Memeti"}, false, 15},
	{"Ukraine", []string{"Olena", "Iryna", "Oksana", "Natalia", "Yulia", "Tetiana"},
		[]string{"Andriy", "Oleksandr", "Serhiy", "Dmytro"}, []string{"Kovalenko", "Bondarenko", "Shevchuk", "Tkachenko", "Melnyk"}, false, 30},
	{"Moldova", []string{"Ana", "Cristina", "Elena", "Natalia"}, []string{"Ion", "Vasile", "Andrei"},
		[]string{"Rusu", "Ceban", "Munteanu", "Lungu"}, false, 20},
	{"Philippines", []string{"Maria", "Angelica", "Jocelyn", "Rowena", "Marites"}, []string{"Jose", "Mark", "Ramon", "Joel"},
		[]string{"Santos", "Reyes", "Cruz", "Bautista", "Mendoza"}, true, 35},
	{"Bangladesh", []string{"Fatema", "Nasrin", "Shirin"}, []string{"Mohammad", "Rahim", "Karim", "Sumon", "Rafiq"},
		[]string{"Hossain", "Rahman", "Islam", "Uddin", "Akter"}, true, 25},
	{"Nepal", []string{"Sita", "Anita", "Sunita"}, []string{"Ram", "Bikash", "Suman", "Prakash"},
		[]string{"Gurung", "Tamang", "Shrestha", "Thapa"}, true, 20},
	{"Kosovo", femaleNames, maleNames, []string{"Krasniqi", "Gashi", "Morina", "Bytyqi"}, true, 10},
}

// towns lists the towns of each region (domain order); towns whose cases go
// to the Sarandë judicial district are in sarandeTowns.
var towns = map[domain.Region][]string{
	domain.RegionBerat:       {"Berat", "Kuçovë", "Çorovodë", "Ura Vajgurore"},
	domain.RegionDiber:       {"Peshkopi", "Burrel", "Bulqizë", "Klos"},
	domain.RegionDurres:      {"Durrës", "Shijak", "Krujë", "Fushë-Krujë", "Sukth"},
	domain.RegionElbasan:     {"Elbasan", "Librazhd", "Cërrik", "Gramsh", "Peqin", "Belsh"},
	domain.RegionFier:        {"Fier", "Lushnjë", "Patos", "Roskovec", "Divjakë"},
	domain.RegionGjirokaster: {"Gjirokastër", "Tepelenë", "Përmet", "Memaliaj"},
	domain.RegionKorce:       {"Korçë", "Pogradec", "Bilisht", "Maliq", "Ersekë"},
	domain.RegionKukes:       {"Kukës", "Krumë", "Bajram Curri"},
	domain.RegionLezhe:       {"Lezhë", "Shëngjin", "Rrëshen", "Laç", "Mamurras"},
	domain.RegionShkoder:     {"Shkodër", "Vau i Dejës", "Pukë", "Koplik"},
	domain.RegionTirane:      {"Tiranë", "Kamëz", "Vorë", "Kavajë", "Rrogozhinë", "Paskuqan"},
	domain.RegionVlore:       {"Vlorë", "Sarandë", "Himarë", "Delvinë", "Orikum", "Ksamil", "Selenicë"},
}

var sarandeTowns = []string{"Sarandë", "Delvinë", "Ksamil"}

var streets = []string{
	"Rruga e Durrësit", "Rruga e Kavajës", "Rruga Ismail Qemali", "Rruga 28 Nëntori", "Rruga Skënderbeu",
	"Rruga Naim Frashëri", "Rruga Sami Frashëri", "Rruga Pavarësia", "Rruga Lidhja e Prizrenit",
	"Rruga Hasan Prishtina", "Rruga Qemal Stafa", "Rruga Dëshmorët", "Rruga e Shkollës", "Rruga e Kishës",
	"Rruga Migjeni", "Rruga Çamëria", "Rruga Kosova", "Rruga Myslym Keta", "Rruga Ali Demi", "Rruga e Fshatit",
}

var healthNotes = []string{
	"Receiving counselling for anxiety.",
	"Attends weekly psychotherapy sessions.",
	"Reports sleep difficulties; referred to a psychologist.",
	"Follow-up medical check scheduled.",
	"No acute health needs recorded.",
	"Under treatment for a minor injury; recovering.",
	"Dental care arranged through the shelter.",
	"Vaccinations brought up to date.",
	"Receiving support for post-traumatic stress symptoms.",
	"General health check completed; no further treatment needed.",
	"Prescribed medication for a chronic condition; supply arranged.",
	"Attends group therapy twice a month.",
}

// testimonies are synthetic testimony summaries by form of exploitation;
// commonTestimonies fit any form.
var testimonies = map[domain.Exploitation][]string{
	domain.ExploitationSexual: {
		"Described recruitment through an offer of work abroad.",
		"Described recruitment by an acquaintance who promised a relationship.",
		"Described control through debts and withheld identity documents.",
	},
	domain.ExploitationForcedLabour: {
		"Described long working hours without pay and restricted movement.",
		"Described a job offer whose conditions changed on arrival.",
		"Described debts for travel and lodging deducted from wages.",
	},
	domain.ExploitationForcedBegging: {
		"Described being sent to beg in the street and handing over the earnings.",
		"Described being taken to other towns to beg during the tourist season.",
	},
	domain.ExploitationForcedCriminality: {
		"Described being told to commit petty thefts under threat.",
		"Described being made to carry packages for others.",
	},
	domain.ExploitationForcedMarriageDomesticServitude: {
		"Described an arranged marriage and work in the household without pay.",
		"Described being kept at home and from school after a marriage arranged by relatives.",
	},
}

var commonTestimonies = []string{
	"Described being moved between towns and kept from contacting family.",
	"Statement recorded with an interviewer of the same gender; audio-visual recording made.",
	"Gave a short statement; a further interview is planned with a psychologist present.",
}

// shelterLocations is where a victim is sheltered, by shelter agency code.
var shelterLocations = map[string]string{
	"shelter-national":  "National Reception Centre, Linzë",
	"ngo-vatra":         "Vatra shelter, Vlorë",
	"ngo-tjeter-vizion": "Tjetër Vizion shelter, Elbasan",
}

// serviceNotes are synthetic notes of a support service, by kind.
var serviceNotes = map[domain.ServiceKind][]string{
	domain.ServiceKindShelter:                  {"Placed in residential care.", "Moved to semi-independent living.", "Short stay pending family assessment."},
	domain.ServiceKindMedical:                  {"General health check completed.", "Follow-up visit arranged.", "Accompanied to the regional hospital."},
	domain.ServiceKindPsychological:            {"Weekly counselling sessions.", "Individual therapy plan agreed.", "Group sessions twice a month."},
	domain.ServiceKindLegalAid:                 {"Lawyer assigned for criminal proceedings.", "Advice on the right to compensation given.", "Accompanied to the prosecution office."},
	domain.ServiceKindInterpretation:           {"Interpreter provided for interviews.", "Documents translated."},
	domain.ServiceKindEducation:                {"Enrolled in school.", "Catch-up classes arranged.", "School attendance monitored."},
	domain.ServiceKindVocationalTraining:       {"Hairdressing course.", "Tailoring course.", "Computer skills course.", "Cooking course."},
	domain.ServiceKindEmployment:               {"Job placement in a local business.", "Employment subsidy arranged.", "Supported job search."},
	domain.ServiceKindFamilyAssessment:         {"Family assessment completed.", "Home visit carried out.", "Assessment found return not advisable."},
	domain.ServiceKindReintegration:            {"Individual reintegration plan agreed.", "Rent support for six months.", "Regular follow-up by a case worker."},
	domain.ServiceKindRepatriation:             {"Return travel organised with the embassy.", "Assisted voluntary return."},
	domain.ServiceKindTemporaryResidencePermit: {"Temporary residence permit application filed.", "Permit granted for one year."},
	domain.ServiceKindWitnessProtection:        {"Protection measures during the trial.", "Testimony given by video link."},
	domain.ServiceKindCompensationSupport:      {"Compensation claim prepared.", "Enforcement of the compensation order followed."},
}

// titleOf is the case-title phrase of a form of exploitation.
func titleOf(form domain.Exploitation, minors, foreign bool) string {
	switch form {
	case domain.ExploitationSexual:
		if minors {
			return "Suspected sexual exploitation of minors"
		}
		return "Suspected sexual exploitation"
	case domain.ExploitationForcedLabour:
		if foreign {
			return "Suspected labour exploitation of foreign workers"
		}
		return "Suspected forced labour"
	case domain.ExploitationForcedBegging:
		if minors {
			return "Suspected forced begging of children"
		}
		return "Suspected forced begging"
	case domain.ExploitationForcedCriminality:
		return "Suspected forced criminality"
	case domain.ExploitationForcedMarriageDomesticServitude:
		return "Suspected forced marriage and domestic servitude"
	case domain.ExploitationSlaveryServitude:
		return "Suspected servitude"
	case domain.ExploitationOrganRemoval:
		return "Suspected trafficking for organ removal"
	}
	return "Suspected trafficking in human beings"
}
