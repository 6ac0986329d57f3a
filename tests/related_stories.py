"""Articles for the "more on this story" tests, written for them: three stories told in several
articles each, other news of the same kinds (another bridge, another recall, another strike) and
unrelated news. (id, title, source, published, text: two paragraphs, so two chunks.)"""

from __future__ import annotations

from typing import Final

Story = tuple[str, str, str, str | None, str]

BRIDGE: Final[list[Story]] = [
    (
        "bridge-1",
        "Cracks close the Marrow Street bridge in Brackwater",
        "Brackwater Courier",
        "2026-03-02",
        "Engineers shut the Marrow Street bridge over the river Oss in Brackwater on Monday "
        "after an inspection found cracks in two of its steel girders. The council said the "
        "crossing, used by about 18,000 vehicles a day, would stay closed until further notice.\n\n"
        "Drivers were sent on a nine-kilometre detour through the ring road, and buses on routes "
        "4 and 11 no longer stop on the north bank. The inspection was the first since 2019.",
    ),
    (
        "bridge-2",
        "Ferry crosses the Oss while Brackwater's Marrow Street bridge stays shut",
        "Oss Valley News",
        "2026-03-05",
        "A temporary ferry began carrying foot passengers and cyclists across the river Oss in "
        "Brackwater on Thursday, three days after cracked girders closed the Marrow Street "
        "bridge.\n\nThe council pays for the boat, which runs every twenty minutes from six in "
        "the morning. Shop owners on the north bank say trade has fallen by half since the "
        "bridge closed.",
    ),
    (
        "bridge-3",
        "Repair contract for Brackwater's cracked Marrow Street bridge goes to local firm",
        "Brackwater Courier",
        "2026-03-12",
        "Brackwater council has hired Hesketh Steelworks to replace the two cracked girders of "
        "the Marrow Street bridge over the Oss, at a cost of 2.4 million.\n\nThe work is "
        "expected to take eight weeks; until then the bridge stays closed to traffic and the "
        "ferry keeps running.",
    ),
    (
        "bridge-4",
        "Marrow Street bridge reopens in Brackwater after girder repairs",
        "Oss Valley News",
        "2026-05-09",
        "Traffic crossed the Marrow Street bridge in Brackwater again on Saturday, after "
        "Hesketh Steelworks finished replacing the cracked girders that had closed it in "
        "March.\n\nThe temporary ferry across the Oss made its last trip on Friday evening, and "
        "bus routes 4 and 11 are back on their usual roads.",
    ),
]

RECALL: Final[list[Story]] = [
    (
        "recall-1",
        "Lumen Foods recalls oat cereal after metal found in boxes",
        "Grocer Weekly",
        "2026-02-10",
        "Lumen Foods is recalling its Morning Oat Clusters cereal after customers found small "
        "pieces of metal in several boxes. The recall covers 500 gram boxes with best-before "
        "dates in August 2026.\n\nThe company told buyers not to eat the cereal and to return "
        "it to the shop for a refund.",
    ),
    (
        "recall-2",
        "Worn mixer blade behind Lumen Foods cereal recall",
        "Food Safety Today",
        "2026-02-14",
        "A worn blade in a mixing machine shed the metal fragments that led Lumen Foods to "
        "recall its Morning Oat Clusters, the company said on Friday.\n\nThe factory line has "
        "been stopped and the machine replaced; inspectors from the food agency will check the "
        "plant before it restarts.",
    ),
    (
        "recall-3",
        "Lumen Foods restarts oat cereal line after metal recall",
        "Grocer Weekly",
        "2026-02-25",
        "Lumen Foods has restarted production of Morning Oat Clusters after food inspectors "
        "cleared the factory, two weeks after metal fragments in the cereal forced a recall.\n\n"
        "New boxes carry a green dot so shoppers can tell them from the recalled stock.",
    ),
]

STRIKE: Final[list[Story]] = [
    (
        "strike-1",
        "Corvale teachers walk out over class sizes",
        "Corvale Herald",
        "2026-01-19",
        "Teachers at all fourteen public schools in Corvale went on strike on Monday, saying "
        "classes of 34 pupils leave them no time for children who fall behind.\n\nThe teachers' "
        "union asked the district to hire forty more teachers; the district says it cannot pay "
        "for them this year.",
    ),
    (
        "strike-2",
        "Corvale teachers' strike ends with deal to cap classes at 28",
        "Corvale Herald",
        "2026-01-30",
        "Corvale's teachers returned to their classrooms on Friday after the union and the "
        "school district agreed to cap class sizes at 28 pupils from September.\n\nThe deal "
        "ends a strike that closed the town's fourteen public schools for two weeks.",
    ),
]

OTHERS: Final[list[Story]] = [
    (
        "tunnel",
        "Harlow road tunnel to close at night for lighting work",
        "Harlow Gazette",
        "2026-03-08",
        "The Eastgate road tunnel in Harlow will close every night from ten until five next "
        "month while its lights are replaced with LED lamps.\n\nNight traffic will be sent "
        "over the old coast road; the tunnel stays open during the day.",
    ),
    (
        "toy-recall",
        "Toy maker recalls light-up yo-yos over battery risk",
        "Consumer Watch",
        "2026-02-20",
        "Spinwell Toys is recalling its Glow yo-yo because the small battery inside can come "
        "loose and be swallowed by young children.\n\nParents should take the batteries out "
        "and send the toy back for a full refund.",
    ),
    (
        "nurses",
        "Nurses in Pellham vote to strike over night shifts",
        "Pellham Post",
        "2026-01-25",
        "Nurses at Pellham General Hospital voted to strike next month over a new rota that "
        "doubles their night shifts.\n\nThe hospital says it will keep emergency care open "
        "during any walkout.",
    ),
    (
        "football",
        "Dunmore Rovers win the county cup on penalties",
        "Dunmore Sports",
        "2026-03-01",
        "Dunmore Rovers won the county cup on Sunday, beating Ashby Town 4-3 on penalties after "
        "a goalless final.\n\nTheir goalkeeper saved two penalties in front of 6,000 fans.",
    ),
    (
        "museum",
        "Glass museum opens in an old Tilbury mill",
        "Tilbury Times",
        None,
        "A museum of glass opened in a restored flour mill in Tilbury this weekend, showing "
        "three hundred pieces made in the town since 1850.\n\nEntry is free for the first "
        "month.",
    ),
]

ALL: Final[list[Story]] = BRIDGE + RECALL + STRIKE + OTHERS
