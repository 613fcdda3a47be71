"""ILR returns built element by element, in the shape of DfE's 2025-26 schema, for the tests
(``test_ilr.py``) and the fuzzer: each test states the facts it is about. Every learner carries
made-up personal data (``SECRETS``), which must never come out of kpidsl."""

from __future__ import annotations

from pathlib import Path

#: The personal data of every learner built here: none of it may be kept, printed or written.
SECRETS = ("Secret", "Person", "2001-01-28", "QQ123456C", "Hidden Road", "07700900123",
           "secret@example.org")


def fam(kind: str, code: str, day: str | None = None) -> str:
    date = f"<LearnDelFAMDateFrom>{day}</LearnDelFAMDateFrom>" if day else ""
    return (f"<LearningDeliveryFAM><LearnDelFAMType>{kind}</LearnDelFAMType>"
            f"<LearnDelFAMCode>{code}</LearnDelFAMCode>{date}</LearningDeliveryFAM>")


def aim(seq: int, *, ref: str = "ZPROG001", kind: int = 1, start: str = "2024-09-02",
        plan_end: str = "2024-12-20", con: str = "XSB-10000001-A000001", status: int = 1,
        end: str | None = None, ach: str | None = None, fams: str = "", fund: int = 37) -> str:
    return (f"<LearningDelivery><LearnAimRef>{ref}</LearnAimRef><AimType>{kind}</AimType>"
            f"<AimSeqNumber>{seq}</AimSeqNumber><LearnStartDate>{start}</LearnStartDate>"
            f"<LearnPlanEndDate>{plan_end}</LearnPlanEndDate><FundModel>{fund}</FundModel>"
            + ("<ProgType>32</ProgType>" if fund == 37 else "")
            + f"<DelLocPostCode>ZZ99 9ZZ</DelLocPostCode><ConRefNumber>{con}</ConRefNumber>"
            f"<CompStatus>{status}</CompStatus>"
            + (f"<LearnActEndDate>{end}</LearnActEndDate>" if end else "")
            + (f"<Outcome>1</Outcome><AchDate>{ach}</AchDate>" if ach else "")
            + fam("SOF", "105") + fams + "</LearningDelivery>")


def learner(ref: str, *aims: str, status: str = "") -> str:
    return (f"<Learner><LearnRefNumber>{ref}</LearnRefNumber><ULN>9999999999</ULN>"
            "<FamilyName>Secret</FamilyName><GivenNames>Person</GivenNames>"
            "<DateOfBirth>2001-01-28</DateOfBirth><Ethnicity>99</Ethnicity><Sex>F</Sex>"
            "<LLDDHealthProb>9</LLDDHealthProb><NINumber>QQ123456C</NINumber>"
            "<PostcodePrior>ZZ99 9ZZ</PostcodePrior><Postcode>ZZ99 9ZZ</Postcode>"
            "<AddLine1>1 Hidden Road</AddLine1><TelNo>07700900123</TelNo>"
            "<Email>secret@example.org</Email>"
            + (status or "<LearnerEmploymentStatus><EmpStat>11</EmpStat>"
               "<DateEmpStatApp>2024-08-01</DateEmpStatApp></LearnerEmploymentStatus>")
            + "".join(aims) + "</Learner>")


def employed(day: str = "2024-08-01", emp: str = "999999999", *esm: tuple[str, str]) -> str:
    monitoring = "".join(f"<EmploymentStatusMonitoring><ESMType>{t}</ESMType>"
                         f"<ESMCode>{c}</ESMCode></EmploymentStatusMonitoring>" for t, c in esm)
    return (f"<LearnerEmploymentStatus><EmpStat>10</EmpStat><DateEmpStatApp>{day}"
            f"</DateEmpStatApp><EmpId>{emp}</EmpId>{monitoring}</LearnerEmploymentStatus>")


def ilr(*learners: str, ukprn: str = "10000001", year: str = "2024-25",
        prepared: str = "2025-03-01", made: str = "2025-03-01T09:00:00", head: str = "") -> str:
    short = year[2:4] + year[5:7]
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{head}'
            f'<Message xmlns="ESFA/ILR/{year}">\n<Header><CollectionDetails>'
            f"<Collection>ILR</Collection><Year>{short}</Year>"
            f"<FilePreparationDate>{prepared}</FilePreparationDate></CollectionDetails>"
            "<Source><ProtectiveMarking>OFFICIAL-SENSITIVE-Personal</ProtectiveMarking>"
            f"<UKPRN>{ukprn}</UKPRN><SerialNo>01</SerialNo><DateTime>{made}</DateTime>"
            "</Source></Header>\n"
            f"<LearningProvider><UKPRN>{ukprn}</UKPRN></LearningProvider>\n"
            + "\n".join(learners) + "\n</Message>\n")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
