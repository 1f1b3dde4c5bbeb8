"""The words of the demo's meeting records (mentoring.demo, seed_demo step 45): small banks of
what a clinical entrepreneur and an industry mentor talk about in a first year, which the
seeder combines with a seeded random.Random so a hundred records do not read alike.

Placeholders, filled per mentorship: {fellow} and {mentor} (first names), {venture}, {trust}
(the fellow's employer) and {site} (its shorter name), {org} (the mentor's organisation),
{ahsn} (the region's Academic Health Science Network), {framework} (an NHS procurement
framework), {amount} (a SEIS round) and {city} (where a Pit Stop was held).
"""

AHSN_BY_REGION = {
    "london": "UCLPartners",
    "south_east": "the Oxford AHSN",
    "south_west": "the West of England AHSN",
    "midlands": "the East Midlands AHSN",
    "east": "the Eastern AHSN",
    "north_west": "Health Innovation Manchester",
    "ne_yorks": "the Yorkshire & Humber AHSN",
}
FRAMEWORKS = [
    "HealthTrust Europe framework",
    "NHS Shared Business Services framework",
    "G-Cloud framework",
    "London Procurement Partnership framework",
]
# SEIS rounds of 2016/17 (at most £150,000).
ROUND_SIZES = ["50,000", "75,000", "100,000", "120,000", "150,000"]
PIT_STOP_CITIES = ["Manchester", "Birmingham", "London", "Leeds", "Bristol"]

# How the meeting happened, by format.
OPENERS = {
    "in_person": [
        "We met at {org}'s offices for an hour.",
        "We met over coffee near {site} after my shift.",
        "We met in person at the Pit Stop in {city} and found a quiet room afterwards.",
        "{mentor} came to {site}, so we met in the education centre.",
    ],
    "video": [
        "A video call between my clinics.",
        "We spoke by video for fifty minutes; {mentor} had the documents open beforehand.",
        "A video call in the evening, after I came off the ward.",
    ],
    "phone": [
        "A phone call during my lunch break; we kept to the agenda I had sent.",
        "We spoke by phone because I was on call; a shorter meeting than planned.",
    ],
}

# What was discussed, by stage of the year: 1 = first meeting, 2 = middle, 3 = late.
TOPICS = {
    1: [
        "We went through the problem {venture} solves and who feels it most on the shop floor "
        "at {site}.",
        "{mentor} asked for evidence that the problem is real before I build anything more; we "
        "agreed I should time the current process across three shifts.",
        "We talked about what a first customer looks like: one trust paying for a pilot, not a "
        "regional contract.",
        "We mapped who at {site} has to say yes: the service lead, the Chief Clinical "
        "Information Officer and the Caldicott Guardian.",
        "We went through my Personal Development Plan and chose the two objectives the "
        "mentoring should focus on first.",
        "We discussed whether to form a company now or keep {venture} as a project with the "
        "trust's innovation team until the pilot reports.",
        "{mentor} explained how {org} assesses early partnerships and what a clinician-founder "
        "is usually missing.",
    ],
    2: [
        "We reviewed the pilot design with {trust}: the outcome measures, a four-week baseline "
        "and who collects the data.",
        "We went through the Digital Technology Assessment Criteria (DTAC) question by "
        "question; clinical safety and data protection are the gaps.",
        "We discussed the clinical safety case under DCB0129 and the trust's own duties under "
        "DCB0160, and who the Clinical Safety Officer will be.",
        "We looked at where {venture} sits in the NICE evidence standards and what level of "
        "evidence commissioners will expect before they pay.",
        "We talked through whether {venture} counts as a medical device, how the MHRA would "
        "classify it and what CE marking would take.",
        "We discussed a data protection impact assessment before any patient data is used in "
        "the pilot.",
        "We discussed the introduction to {ahsn} and how their innovation exchange could find a "
        "second site.",
        "We went through my Innovate UK application and tightened the work packages and the "
        "budget.",
        "We talked about SBRI Healthcare and how its phases fund feasibility and then development.",
        "We looked at the intellectual property: what the trust owns under my contract and "
        "what I can take into a company.",
    ],
    3: [
        "We went through the pitch deck for the pre-seed round: the problem, the pilot's "
        "results, the team and the use of funds.",
        "We discussed the terms of a £{amount} pre-seed round under SEIS and what valuation is "
        "realistic at this stage.",
        "We talked about NHS procurement: a pilot under the trust's quotation threshold first, "
        "then a route through the {framework}.",
        "We looked at the pilot results and how to present them as a case study for other trusts.",
        "We discussed the NHS Innovation Accelerator and the Innovation and Technology Tariff "
        "as routes to spread {venture}.",
        "We reviewed the value proposition for commissioners: cost per patient, bed days saved "
        "and time to treatment.",
        "We discussed hiring a first developer and how to keep clinical time protected while "
        "the company grows.",
        "We reviewed what the year has achieved and what to do when the programme ends.",
    ],
}
CLOSERS = [
    "We agreed the milestones below and the date of the next meeting.",
    "We finished by agreeing what I will have done before we next meet.",
    "{mentor} will send two contacts by email; the milestones are below.",
    "We agreed to speak briefly by phone in between if the trust replies.",
]

REFLECTIONS = [
    "I had been building features before proving the problem; the baseline data will make the "
    "case far better than I can.",
    "Talking to the Chief Clinical Information Officer early would have saved me two months. "
    "I will bring information governance in from the start next time.",
    "I underestimated how long the trust's approvals take. I need to plan around them rather "
    "than be surprised by them.",
    "The DTAC questions were less daunting once broken into parts; clinical safety is the piece "
    "I need help with.",
    "Pitching to investors is a different skill from presenting at grand rounds: lead with the "
    "market, not the pathophysiology.",
    "I am learning to say no to features that do not serve the pilot.",
    "Balancing nights with the venture is hard; blocking one afternoon a week has made the "
    "biggest difference.",
    "The evidence standards showed me that a pilot without a comparator will not convince "
    "commissioners.",
    "I now see procurement as a design constraint, not a hurdle at the end.",
    "Hearing how {org} decides on partnerships made me rethink who my customer really is.",
    "I felt more confident after this meeting: the next three months are clear.",
    "I need to delegate more; I have been trying to be the clinician, developer and finance "
    "director at once.",
]
ADVICE = [
    "Book a call with {ahsn}'s innovation team this month; they can open doors at two more trusts.",
    "Write the value proposition in the commissioner's language: cost per patient, bed days "
    "saved, time to treatment.",
    "Do not pay a regulatory consultant yet. Read the MHRA's guidance on software as a medical "
    "device first and bring your questions.",
    "Get a Clinical Safety Officer involved before the pilot protocol is final.",
    "Keep the round small and fast: £{amount} from angels under SEIS, then an Innovate UK grant "
    "to match it.",
    "Ask the procurement lead which framework the trust uses and build the route to purchase "
    "around it.",
    "Look for a technical co-founder rather than outsourcing the build.",
    "Protect one day a week for {venture} and tell the rota coordinator early.",
    "Collect patients' stories alongside the numbers: boards are persuaded by both.",
    "Start the DTAC evidence pack now; trusts will ask for it before any contract.",
    "Send me the deck a week before the investor day and I will mark it up.",
    "Keep a decision log: investors will ask why you chose this pilot site.",
]

# Milestones: (what, how we will know, stages of the year it suits, PDP domain position —
# 1 business planning … 8 networking, see pdp.demo.CEP_FRAMEWORK — and what shows it done).
MILESTONES = [
    (
        "Time the current process across three shifts",
        "A one-page baseline shared with {mentor}",
        {1},
        5,
        "Baseline timings: {venture}/evidence/baseline.xlsx",
    ),
    (
        "Write a one-page problem statement",
        "Reviewed by the service lead at {trust}",
        {1},
        1,
        "Problem statement with the service lead's comments",
    ),
    (
        "Meet the Chief Clinical Information Officer",
        "A meeting held and next steps agreed in writing",
        {1, 2},
        8,
        "The CCIO's follow-up email",
    ),
    (
        "Agree protected time for {venture} with my supervisor",
        "Time written into my job plan or rota",
        {1},
        4,
        "Job plan with a weekly innovation session",
    ),
    (
        "Build a three-year financial model",
        "A model with its assumptions, runway and the size of round needed",
        {1, 2},
        2,
        "Financial model, linked on my PDP",
    ),
    (
        "Incorporate the company",
        "Company number issued and founders' agreement signed",
        {1, 2},
        1,
        "Certificate of incorporation from Companies House",
    ),
    (
        "Complete the DTAC self-assessment",
        "All five sections drafted, with the gaps listed",
        {2},
        3,
        "DTAC draft in the shared folder",
    ),
    (
        "Draft the clinical safety case (DCB0129)",
        "Hazard log and safety case report reviewed by a Clinical Safety Officer",
        {2, 3},
        3,
        "Hazard log v2 with the CSO's review",
    ),
    (
        "Complete a data protection impact assessment",
        "DPIA approved by the trust's Data Protection Officer",
        {2},
        3,
        "DPIA approval email from the Data Protection Officer",
    ),
    (
        "Confirm how the MHRA would classify {venture}",
        "A written rationale for the device class, checked by a regulatory adviser",
        {2},
        3,
        "Classification note and the adviser's reply",
    ),
    (
        "Agree the pilot protocol with {trust}",
        "Protocol approved by the service lead and registered as a service evaluation",
        {1, 2},
        5,
        "Signed protocol and the service evaluation number",
    ),
    (
        "Collect baseline data for the pilot",
        "Four weeks of baseline measures in the agreed dataset",
        {2},
        5,
        "Baseline dataset summary",
    ),
    (
        "Map our evidence to the NICE evidence standards",
        "A table of the evidence level needed and what we already hold",
        {2, 3},
        5,
        "Evidence table in the shared folder",
    ),
    (
        "Submit an Innovate UK application",
        "Application submitted before the competition closes",
        {2, 3},
        2,
        "Submission confirmation from the Innovation Funding Service",
    ),
    (
        "Apply to SBRI Healthcare",
        "Phase 1 application submitted",
        {2},
        2,
        "Submission receipt from SBRI Healthcare",
    ),
    (
        "Get an introduction to a second trust through {ahsn}",
        "A meeting arranged with a second trust",
        {2, 3},
        8,
        "Introduction email from {ahsn}",
    ),
    (
        "Pitch to five angel investors",
        "Five pitch meetings held and the feedback written up",
        {3},
        2,
        "Investor feedback notes",
    ),
    (
        "Close a pre-seed round of £{amount}",
        "Signed SEIS subscription agreements",
        {3},
        2,
        "Subscription agreements (copies with the programme team)",
    ),
    (
        "Map the route to purchase at {trust}",
        "A one-page route checked with the procurement lead",
        {2, 3},
        6,
        "Route to purchase, checked by the procurement lead",
    ),
    (
        "Write the value proposition for commissioners",
        "A two-page case with cost and outcome figures",
        {3},
        6,
        "Value proposition document",
    ),
    (
        "Recruit a first developer",
        "A contract signed and a start date agreed",
        {3},
        4,
        "Signed contract",
    ),
    (
        "Present the pilot results to {site}'s innovation board",
        "Presentation given and a decision on extending the pilot recorded",
        {3},
        5,
        "Board minutes and slides",
    ),
    (
        "Agree a paid extension of the pilot",
        "A purchase order from {trust}",
        {3},
        6,
        "Purchase order from the trust",
    ),
]

REVIEW_COMMENTS = {
    "achieved": [
        "Done on time.",
        "Done two weeks early; {mentor} looked at it before the meeting.",
        "Done, although the trust's approvals made it later than planned.",
        "Achieved, and it changed what we plan to do next.",
        "Complete; shared with the team at {site}.",
    ],
    "partly": [
        "Half done: one of the two people who must agree has agreed; the other has not replied.",
        "The first draft is written but not yet reviewed.",
        "Started, but winter pressures took most of my non-clinical time.",
        "Most of it is done; the last part waits on the trust's IT team.",
        "Further on than it looks: the hard part is done and the write-up is left.",
    ],
    "deferred": [
        "Moved: winter pressures and rota gaps took the time set aside for it.",
        "Moved: the person I need is on leave until next month.",
        "Moved so that it follows the pilot rather than runs alongside it.",
        "Moved: a run of nights and an exam took the time; the new date is realistic.",
        "Moved: it depends on a reply from {site} that has not come yet.",
    ],
    "missed": [
        "Missed: it clashed with a run of nights and I did not get to it. We agreed to drop it "
        "and focus on the pilot.",
        "Missed: the people it depended on at {site} changed roles and the work stalled.",
        "Missed: it no longer fits the plan after what we learnt this quarter, so we closed it.",
        "Missed: I underestimated it. We closed it and agreed a smaller milestone instead.",
    ],
}

# What a mentor asks to change when returning a record, and the sentence the fellow then adds
# to the discussion before sending it back.
RETURNS = [
    (
        "The discussion leaves out what we agreed about the DTAC submission. Please add it, "
        "then send it back and I will sign.",
        " Added after {mentor}'s comments: we agreed to send the DTAC pack to the trust by the "
        "end of the month.",
    ),
    (
        "Please add the introduction to {ahsn} that we agreed; it is missing from the record.",
        " Added after {mentor}'s comments: {mentor} will introduce me to {ahsn}'s digital lead.",
    ),
    (
        "Please record what we said about evidence: where each milestone's evidence is kept.",
        " Added after {mentor}'s comments: the evidence for each milestone is linked from my PDP.",
    ),
    (
        "We agreed the pilot does not start before the clinical safety review. Please say so in "
        "the record.",
        " Added after {mentor}'s comments: we agreed the pilot waits for the Clinical Safety "
        "Officer's review.",
    ),
]
