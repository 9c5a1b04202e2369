"""Presidio, regex recognisers only (no spaCy model is needed or fetched), over a log file line by
line: e-mail, IP, card, MAC and URL entities replaced by their type. Usage: IN OUT"""
import logging
import sys

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NoOpNlpEngine
from presidio_analyzer.recognizer_registry import RecognizerRegistry
from presidio_anonymizer import AnonymizerEngine

logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
registry = RecognizerRegistry(supported_languages=["en"])
registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
analyzer = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
anonymizer = AnonymizerEngine()
wanted = ["EMAIL_ADDRESS", "IP_ADDRESS", "CREDIT_CARD", "MAC_ADDRESS", "URL"]
entities = [e for e in wanted if e in analyzer.get_supported_entities("en")]
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for line in src:
        line = line.rstrip("\n")
        found = analyzer.analyze(text=line, language="en", entities=entities)
        out.write((anonymizer.anonymize(text=line, analyzer_results=found).text if found else line) + "\n")
